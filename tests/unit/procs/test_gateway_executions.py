"""The gateway's executions: what the exchange reports becomes EXEC records on a real exec ring.

The main path runs against the local exchange: a real ThalexClient whose frame hook is
Executions.on_frame, so the session.orders and trade-history frames are the exchange's own. Frames
the still exchange will not produce on demand (a large snapshot, a tripped protection group,
unreadable trade reports) are built in the exchange's format."""
import time

import numpy as np
import pytest

from bench._thalex_frames import frame
from procs.gateway.executions import Executions
from procs.gateway.ladder_orders import LadderOrders
from procs.gateway.open_orders import OpenOrders
from procs.gateway.session import MmpRefills
from runtime import segments
from shm import records as R
from venue.client import ThalexClient
from venue.decode.frame import FrameDecoder
from venue.ratelimit import ThalexLimits
from venue.token import load_private_key

from agent_kit import BTC, BEST_BID, drain, wait_until
from conf.schema import Gateway as GatewayConf

pytestmark = pytest.mark.timeout(60)


class Wiring:
    """Executions with real rings, a real decoder and the open-order book, as the gateway wires them."""

    def __init__(self, segs, instance, ladders=None):
        self.segs = segs
        self.reader = segments.reader(instance, "exec")          # attached before anything is written
        self.bell = segs["doorbells"].bell("risk")
        self.open_orders = OpenOrders(1, segs["state"])
        self.mmp = MmpRefills()
        self.limits = ThalexLimits.from_config(GatewayConf(), time.monotonic_ns())
        decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), exec_out=np.zeros(64, R.EXEC_DTYPE),
                               instrument_ids={BTC.name: BTC.id})
        decoder.add("session.orders", 0)
        self.executions = Executions([BTC], segs["exec"], [self.bell.ring], decoder, self.open_orders,
                                     ladders, self.limits, self.mmp)

    def records(self) -> np.ndarray:
        return drain(self.reader, R.EXEC_DTYPE)

    def close(self):
        self.reader.close()


@pytest.fixture
def wired(segs, instance):
    w = Wiring(segs, instance)
    yield w
    w.close()


@pytest.fixture
def client(sim, account, wired):
    """A logged-in client on a fresh account whose frames go through ``wired.executions``."""
    kid, private, _ = account
    c = ThalexClient(sim.url, timeout_s=5.0)
    c.frame_hook = wired.executions.on_frame
    c.login(kid, load_private_key(private))
    c.private_subscribe(["session.orders", "account.trade_history"])
    yield c
    try:
        c.cancel_all()
    finally:
        c.close()


def collect(client, wired, until, timeout_s=5.0):
    """Poll the client and gather exec records until ``until(records)`` holds."""
    got = []

    def step():
        client.poll(0.02)
        got.extend(wired.records())
    wait_until(lambda: until(got), timeout_s, step, "exec records")
    return got


def kinds(records):
    return [int(r["type"]) for r in records]


def test_an_order_resting_on_the_exchange_is_an_ack_on_exec_and_counted_open_for_risk(client, wired):
    seen = wired.bell.armed()
    client.insert("buy", BTC.name, 0.01, 99_000.0, client_order_id=5, post_only=True)
    got = collect(client, wired, lambda g: R.EXEC_ACK in kinds(g))
    (ack,) = [r for r in got if r["type"] == R.EXEC_ACK]
    assert (ack["side"], ack["client_order_id"], ack["price"], ack["remaining"]) == (1, 5, 99_000.0, 0.01)
    assert wired.open_orders.live == {int(ack["order_id"]): (0, 1, 0.01)}
    state = wired.segs["state"].snapshot()
    assert state["open_bid"][0] == pytest.approx(0.01) and state["open_ask"][0] == 0.0 and state["quoting"] == 1
    assert wired.bell.armed() != seen                           # risk was woken


def test_a_fill_of_our_order_is_a_fill_and_a_trade_report_with_the_exchanges_fee(sim, client, wired):
    client.insert("buy", BTC.name, 0.01, BEST_BID + 1, client_order_id=6, post_only=True)
    collect(client, wired, lambda g: R.EXEC_ACK in kinds(g))
    assert "result" in sim.call("sim/trade", {"instrument": BTC.name, "direction": "sell", "amount": 0.004})
    got = collect(client, wired, lambda g: R.EXEC_FILL in kinds(g) and R.EXEC_TRADE in kinds(g))
    (fill,) = [r for r in got if r["type"] == R.EXEC_FILL]
    (trade,) = [r for r in got if r["type"] == R.EXEC_TRADE]
    assert (fill["price"], fill["amount"], fill["remaining"], fill["liquidity"]) == \
        (BEST_BID + 1, 0.004, pytest.approx(0.006), R.LIQ_MAKER)
    assert R.trade_id_of(trade) == R.trade_id_of(fill) and trade["fee"] > 0 and trade["position"] == pytest.approx(0.004)
    assert wired.segs["state"].snapshot()["open_bid"][0] == pytest.approx(0.006)


def test_a_cancelled_order_leaves_the_open_orders_and_quoting_drops(client, wired):
    client.insert("sell", BTC.name, 0.02, 101_000.0, client_order_id=7, post_only=True)
    collect(client, wired, lambda g: R.EXEC_ACK in kinds(g))
    client.cancel(client_order_id=7)
    collect(client, wired, lambda g: R.EXEC_CANCEL in kinds(g))
    state = wired.segs["state"].snapshot()
    assert wired.open_orders.live == {} and state["open_ask"][0] == 0.0 and state["quoting"] == 0


def test_a_snapshot_larger_than_the_first_buffer_reaches_exec_whole(wired):
    orders = [{"order_id": str(1000 + i), "order_type": "limit", "time_in_force": "good_till_cancelled",
               "instrument_name": BTC.name, "direction": "buy", "price": 90_000.0 + i, "amount": 0.001,
               "filled_amount": 0.0, "remaining_amount": 0.001, "status": "open", "fills": [],
               "change_reason": "existing", "client_order_id": 2000 + i, "create_time": 1.7e9,
               "persistent": False} for i in range(100)]
    assert wired.executions.on_frame(frame("session.orders", orders, snapshot=True))
    got = wired.records()
    assert len(got) == 100 and kinds(got) == [R.EXEC_ACK] * 100
    assert sorted(int(r["client_order_id"]) for r in got) == list(range(2000, 2100))
    assert len(wired.open_orders.live) == 100


def test_trade_reports_of_other_kinds_or_unreadable_are_skipped_and_the_rest_published(wired):
    good = {"trade_type": "normal", "trade_id": "77", "order_id": "5", "instrument_name": BTC.name,
            "direction": "sell", "price": 100_000.0, "amount": 0.002, "time": 1.7e9, "fee": 0.1,
            "position_after": -0.002, "maker_taker": "taker"}
    reports = [good, {**good, "trade_type": "liquidation"}, {**good, "price": "lots"},
               {**good, "instrument_name": "ETH-PERPETUAL"}, "not an object"]
    assert wired.executions.on_frame(frame("account.trade_history", reports))
    (t,) = wired.records()
    assert (t["type"], R.trade_id_of(t), t["side"], t["fee"], t["liquidity"]) == (R.EXEC_TRADE, 0x77, -1, 0.1, R.LIQ_TAKER)
    assert wired.executions.on_frame(b'{"channel_name": "account.trade_history", "notification": [')
    assert len(wired.records()) == 0


def test_a_tripped_protection_group_waits_for_its_refill(wired):
    notice = [{"product": "FBTCUSD", "remaining_amount": 0.0, "reason": "executions"},
              {"product": "FETHUSD", "remaining_amount": 0.3, "reason": "executions"}]
    assert wired.executions.on_frame(frame("session.mm_protection", notice))
    assert wired.mmp.exhausted("FBTCUSD") and not wired.mmp.exhausted("FETHUSD")
    assert len(wired.records()) == 0


def test_a_reply_is_not_ours_and_goes_back_to_the_client(wired):
    assert wired.executions.on_frame(b'{"id": 3, "result": {}}') is False


def test_a_refusal_is_a_reject_record_and_a_throttle_starts_the_cooldown(wired):
    now = time.monotonic_ns()
    wired.executions.reject(0, 4, "mass_quote: throttled")
    wired.executions.reject(0, 11, "mass_quote side buy: post only would trade")
    got = wired.records()
    assert kinds(got) == [R.EXEC_REJECT, R.EXEC_REJECT] and [int(r["reason"]) for r in got] == [4, 11]
    assert (wired.executions.rejects, wired.executions.throttled) == (2, 1)
    assert wired.limits.in_cooldown(now + 1) and not wired.limits.try_order(now + 1)


def test_without_mass_quoting_a_filled_out_order_empties_its_ladder_level(segs, instance):
    limits = ThalexLimits.from_config(GatewayConf(), time.monotonic_ns())
    cids = iter(range(10, 100))
    ladder = LadderOrders(BTC.name, limits, lambda: next(cids))
    ladder.levels[1][0], ladder.orders[10] = 10, [1, 0, 99_990.0, 0.01]
    w = Wiring(segs, instance, ladders={0: ladder})
    try:
        order = {"order_id": "55", "order_type": "limit", "time_in_force": "good_till_cancelled",
                 "instrument_name": BTC.name, "direction": "buy", "price": 99_990.0, "amount": 0.01,
                 "filled_amount": 0.01, "remaining_amount": 0.0, "status": "filled", "change_reason": "fill",
                 "client_order_id": 10, "create_time": 1.7e9, "persistent": False,
                 "fills": [{"trade_id": "91", "price": 99_990.0, "amount": 0.01, "time": 1.7e9,
                            "maker_taker": "maker", "leg_index": 0}]}
        assert w.executions.on_frame(frame("session.orders", [order]))
        assert kinds(w.records()) == [R.EXEC_FILL]
        assert ladder.levels[1][0] is None and ladder.orders == {}
    finally:
        w.close()
