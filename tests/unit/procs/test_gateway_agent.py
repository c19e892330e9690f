"""The gateway against the local exchange over a real websocket, with real rings: a ladder from the
quoter (``quotes``) becomes orders resting on the exchange once the risk gate is open, a pull
(risk's, on ``orders``) removes them, exits and requests act on the account, a dropped connection
is reconnected and reconciled, closing leaves nothing behind. The pre-trade checks at the gateway
have their own tests (test_gateway_pretrade.py)."""
import time

import pytest

from procs.gateway.agent import Gateway
from runtime import segments
from shm import records as R

from agent_kit import BEST_BID, BTC, drain, gateway_conf, ladder, open_gate, risk_conf, wait_until
from runtime.reconnect import ReconnectPolicy

pytestmark = pytest.mark.timeout(60)
BIDS, ASKS = [99_990.0, 99_980.0], [100_010.0, 100_020.0]
RISK = risk_conf(max_position=0.1, max_order_size=0.05)


@pytest.fixture
def exec_reader(segs, instance):
    reader = segments.reader(instance, "exec")     # before the gateway starts: sees reconciliation
    yield reader
    reader.close()


def start_gateway(instance, sim, account, segs=None, **conf) -> Gateway:
    """A started gateway; the gate is opened (a fresh heartbeat that stays good for the test)."""
    kid, private, _ = account
    conf.setdefault("risk_timeout_s", 10.0)
    if segs is not None:
        open_gate(segs, conf=RISK)
    gw = Gateway(instance, sim.url, kid, str(private), [BTC], gateway_conf(**conf), ReconnectPolicy(0.2, 1.0),
                 timeout_s=5.0)
    gw.on_start()
    return gw


@pytest.fixture(params=[True, False], ids=["mass_quote", "single_orders"])
def gateway(request, segs, instance, sim, account, exec_reader):
    gw = start_gateway(instance, sim, account, segs, mass_quote=request.param)
    yield gw
    gw.on_close()


def resting(exchange_state, account):
    return sorted((o["direction"], o["price"], o["remaining_amount"])
                  for o in exchange_state(account[2])["open_orders"])


def until(gw, predicate, what, timeout_s=10.0):
    return wait_until(predicate, timeout_s, gw.do_work, what)


def test_a_ladder_on_the_quotes_ring_ends_up_resting_on_the_exchange(segs, gateway, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS, amount=0.01))
    want = sorted([("buy", p, 0.01) for p in BIDS] + [("sell", p, 0.01) for p in ASKS])
    until(gateway, lambda: resting(exchange_state, account) == want, "the ladder resting")
    until(gateway, lambda: gateway.state.get("quoting") == 1, "quoting published")
    # the gateway reads a frame a pass: every ack is in once the open amounts add up
    until(gateway, lambda: (gateway.state.snapshot()["open_bid"][0], gateway.state.snapshot()["open_ask"][0])
          == (pytest.approx(0.02), pytest.approx(0.02)), "the open orders published")
    assert gateway.state.get("connected") == 1


def test_a_pull_on_the_orders_ring_empties_the_book_of_our_orders(segs, gateway, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    segs["orders"].write(ladder(kind=R.QUOTE_PULL))
    until(gateway, lambda: resting(exchange_state, account) == [], "the ladder pulled")
    until(gateway, lambda: gateway.state.get("quoting") == 0, "quoting cleared")


def test_only_the_newest_ladder_of_a_burst_is_sent(segs, gateway, exchange_state, account):
    for shift in range(5):
        segs["quotes"].write(ladder(bids=[99_900.0 + shift], asks=[100_100.0 - shift]))
    gateway.do_work()
    until(gateway, lambda: resting(exchange_state, account) == [("buy", 99_904.0, 0.01), ("sell", 100_096.0, 0.01)],
          "the newest ladder resting")
    assert gateway.quoting.sent == 1


def test_a_pass_that_sent_a_ladder_gives_the_core_away_once_and_an_idle_pass_does_not(
        segs, gateway, monkeypatch):
    yields = []
    monkeypatch.setattr("procs.gateway.agent.os.sched_yield", lambda: yields.append(gateway.quoting.sent))
    for _ in range(20):
        gateway.do_work()                      # nothing to send: keep the core
    assert yields == []
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: gateway.quoting.sent == 1, "the ladder sent")
    for _ in range(20):
        gateway.do_work()
    assert yields == [1], "one yield, right after the pass that sent the ladder"


def test_a_kill_request_cancels_everything_and_is_confirmed(segs, gateway, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    seq = gateway.state.bump("kill_request_seq")
    until(gateway, lambda: gateway.state.get("kill_done_seq") == seq, "the kill confirmed")
    assert resting(exchange_state, account) == []


def test_the_latency_from_market_record_to_send_is_reported(segs, gateway):
    q = ladder(bids=BIDS, asks=ASKS)
    q["md_receive_ts_ns"] = time.monotonic_ns() - 2_000_000          # the market record, 2 ms ago
    segs["quotes"].write(q)
    until(gateway, lambda: gateway.quoting.sent == 1, "the ladder sent")
    slot = segs["counters"].register(1, "gateway")
    gateway.report(slot)
    assert 2_000_000 <= gateway.state.get("send_p50_ns") < 2_000_000_000
    assert slot.get("latency_p50_ns") == gateway.state.get("send_p50_ns")


def test_a_flatten_closes_the_position_with_a_reduce_only_market_order(segs, sim, instance, account, exchange_state,
                                                                         exec_reader):
    gw = start_gateway(instance, sim, account, segs)
    try:
        segs["quotes"].write(ladder(bids=[BEST_BID + 1]))
        until(gw, lambda: resting(exchange_state, account), "our bid resting")
        sim.call("sim/trade", {"instrument": BTC.name, "direction": "sell", "amount": 0.004})
        position = lambda: sum(p["position"] for p in exchange_state(account[2])["portfolio"])  # noqa: E731
        until(gw, lambda: position() == pytest.approx(0.004), "a long position")
        segs["orders"].write(ladder(kind=R.QUOTE_PULL))
        until(gw, lambda: not resting(exchange_state, account), "our bid pulled")
        flat = ladder(kind=R.QUOTE_FLATTEN)
        flat["n_asks"], flat["ask_amount"][0][0] = 1, 0.004
        segs["orders"].write(flat)
        until(gw, lambda: abs(position()) < 1e-12, "the position closed")
        fills = []

        def sell_fill_published():
            fills.extend(r for r in drain(exec_reader, R.EXEC_DTYPE) if r["type"] == R.EXEC_FILL)
            return len(fills) == 2
        until(gw, sell_fill_published, "the closing fill on exec")
        assert [int(r["side"]) for r in fills] == [1, -1] and fills[1]["liquidity"] == R.LIQ_TAKER
    finally:
        gw.on_close()


def test_a_take_profit_rests_reduce_only_and_is_replaced_by_the_next_one(segs, sim, instance, account,
                                                                        exchange_state, exec_reader):
    gw = start_gateway(instance, sim, account, segs)
    try:
        segs["quotes"].write(ladder(bids=[BEST_BID + 1]))
        until(gw, lambda: resting(exchange_state, account), "our bid resting")
        sim.call("sim/trade", {"instrument": BTC.name, "direction": "sell", "amount": 0.01})
        segs["orders"].write(ladder(kind=R.QUOTE_PULL))
        tp = ladder(asks=[100_050.0], amount=0.01, kind=R.QUOTE_TP)
        segs["orders"].write(tp)
        tps = lambda: [o for o in exchange_state(account[2])["open_orders"] if o.get("label") == "tp"]  # noqa: E731
        until(gw, lambda: [(o["price"], o["reduce_only"]) for o in tps()] == [(100_050.0, True)], "the take-profit")
        segs["orders"].write(ladder(asks=[100_040.0], amount=0.01, kind=R.QUOTE_TP))
        until(gw, lambda: [o["price"] for o in tps()] == [100_040.0], "the take-profit replaced")
    finally:
        gw.on_close()


def test_a_dropped_connection_is_reconnected_and_reconciled(segs, sim, instance, account, exchange_state,
                                                           exec_reader):
    gw = start_gateway(instance, sim, account, segs)
    try:
        first = drain(exec_reader, R.EXEC_DTYPE)
        assert [int(r["type"]) for r in first] == [R.EXEC_POSITION, R.EXEC_RECONCILED]   # on connect
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
        until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
        assert sim.call("sim/drop_connections", {"scope": "private"})["result"]["dropped"] >= 1
        until(gw, lambda: gw.state.get("connected") == 0, "the loss noticed")
        assert gw.open_orders.live == {} and gw.state.snapshot()["open_bid"][0] == 0.0
        until(gw, lambda: gw.session.connects == 2 and gw.state.get("connected") == 1, "reconnected")
        again = [int(r["type"]) for r in drain(exec_reader, R.EXEC_DTYPE)]
        assert again[-2:] == [R.EXEC_POSITION, R.EXEC_RECONCILED]
        assert resting(exchange_state, account) == []          # the old session's quotes are gone
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
        until(gw, lambda: len(resting(exchange_state, account)) == 4, "quoting again")
    finally:
        gw.on_close()


def test_closing_the_gateway_leaves_nothing_resting(segs, sim, instance, account, exchange_state, exec_reader):
    gw = start_gateway(instance, sim, account, segs)
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    gw.on_close()
    assert resting(exchange_state, account) == []
    assert segs["state"].get("connected") == 0 and segs["state"].get("quoting") == 0


def test_a_wrong_key_fails_the_start_with_the_exchanges_reason(segs, sim, instance, account, tmp_path):
    from sim.keys import make_key_pair
    kid, _, _ = account
    _, other_private, _ = make_key_pair(tmp_path / "other")
    gw = Gateway(instance, sim.url, kid, str(other_private), [BTC], gateway_conf(), ReconnectPolicy(0.2, 1.0), timeout_s=5.0)
    try:
        with pytest.raises(Exception, match="token rejected"):
            gw.on_start()
    finally:
        gw.on_close()
    assert segs["state"].get("connected") == 0


def test_ladders_keep_arriving_while_disconnected_only_the_newest_is_kept_and_none_outlives_the_reconcile(
        segs, sim, instance, account, exchange_state, exec_reader):
    gw = start_gateway(instance, sim, account, segs, cancel_on_disconnect_s=1)
    try:
        sim.call("sim/drop_connections", {"scope": "private"})
        until(gw, lambda: gw.session.client is None, "the loss noticed")
        gw.session.next_connect_s = time.monotonic() + 60.0       # stay away for the moment
        for price in (99_950.0, 99_960.0):
            segs["quotes"].write(ladder(bids=[price]))
            assert gw.do_work() == 1
        assert list(gw.quoting.desired) == [0] and gw.quoting.desired[0]["bid_price"][0][0] == 99_960.0
        gw.session.next_connect_s = 0.0
        # Approved on the books before the reconcile: dropped at its marker (risk sends its newest
        # ladder again once it has read the marker), so nothing is sent on stale positions.
        until(gw, lambda: gw.session.connects == 2 and not gw.session.replay.holds_quoting, "reconciled")
        assert R.EXEC_RECONCILED in [int(r["type"]) for r in drain(exec_reader, R.EXEC_DTYPE)]
        assert not gw.quoting.desired
        for _ in range(20):
            gw.do_work()
        assert resting(exchange_state, account) == []
        segs["orders"].write(ladder(bids=[99_960.0]))              # risk's ladder after the marker
        until(gw, lambda: resting(exchange_state, account) == [("buy", 99_960.0, 0.01)], "the newest ladder")
    finally:
        gw.on_close()
