"""Reconciliation's replay against the local exchange: the account's trades (from risk's
replay_since_ns, page by page), then its positions, then the EXEC_RECONCILED marker answering the
request; never more than half the exec ring ahead of risk's cursor; a request during a replay is
answered by another after it; an unreadable portfolio ends the replay without a marker and it is
tried again. Real gateway, real websocket, real rings."""
import time

import numpy as np
import pytest

from procs.gateway import replay as replay_module
from procs.gateway.agent import Gateway
from runtime import segments
from runtime.reconnect import ReconnectPolicy
from shm import records as R
from testkit.exchange import Client

from agent_kit import BEST_BID, BTC, drain, gateway_conf, wait_until

pytestmark = pytest.mark.timeout(60)


def make_trades(sim, account, n: int) -> list[float]:
    """``n`` trades of the account (our bid hit by the background flow); their times, Unix s."""
    kid, private, number = account
    c = Client(sim.url)
    try:
        c.login(kid, private)
        c.result("private/set_cancel_on_disconnect", {"timeout_secs": 10})   # the faster order rate
        for _ in range(n):
            c.result("private/insert", {"direction": "buy", "instrument_name": BTC.name, "amount": 0.001,
                                        "price": BEST_BID + 1, "order_type": "limit", "post_only": True})
            assert "result" in sim.call("sim/trade", {"instrument": BTC.name, "direction": "sell", "amount": 0.001})
        trades = c.result("private/trade_history", {"limit": 1000, "sort": "ascending"})["trades"]
    finally:
        c.close()
    return [t["time"] for t in trades]


@pytest.fixture
def exec_reader(segs, instance):
    reader = segments.reader(instance, "exec")
    yield reader
    reader.close()


@pytest.fixture
def gateway(segs, instance, sim, account):
    kid, private, _ = account
    gw = Gateway(instance, sim.url, kid, str(private), [BTC], gateway_conf(), ReconnectPolicy(0.2, 1.0), timeout_s=5.0)
    yield gw
    gw.on_close()


def types(records):
    return [int(r["type"]) for r in records]


def test_a_connect_replays_every_trade_page_by_page_then_positions_then_the_marker(
        segs, sim, account, gateway, exec_reader, monkeypatch):
    make_trades(sim, account, 9)
    monkeypatch.setattr(replay_module, "PAGE", 4)          # three pages
    segs["state"].set("reconcile_request_seq", 5)
    gateway.on_start()
    got = drain(exec_reader, R.EXEC_DTYPE)
    assert types(got) == [R.EXEC_TRADE] * 9 + [R.EXEC_POSITION, R.EXEC_RECONCILED]
    assert len({R.trade_id_of(r) for r in got[:9]}) == 9
    assert list(got["exchange_ts_ns"][:9]) == sorted(got["exchange_ts_ns"][:9])      # oldest first
    assert got[9]["position"] == pytest.approx(0.009) and got[10]["seq"] == 5


def test_only_trades_since_risks_replay_time_are_replayed(segs, sim, account, gateway, exec_reader):
    make_trades(sim, account, 3)
    time.sleep(1.1)                                            # time_low is in whole seconds
    times = make_trades(sim, account, 3)
    assert len(times) == 6
    segs["state"].set("replay_since_ns", int(times[3] * 1e9))
    gateway.on_start()
    got = drain(exec_reader, R.EXEC_DTYPE)
    assert types(got) == [R.EXEC_TRADE] * 3 + [R.EXEC_POSITION, R.EXEC_RECONCILED]
    assert got[3]["position"] == pytest.approx(0.006)          # the position is the whole account's


def test_the_replay_never_runs_more_than_half_the_ring_ahead_of_risk(segs, sim, account, gateway, exec_reader,
                                                                    monkeypatch):
    make_trades(sim, account, 12)
    capacity = segs["exec"].capacity
    monkeypatch.setattr(replay_module, "PER_STEP", 5)
    # risk's cursor at 0, the tail 4 records short of half the ring ahead of it: room for 4
    segs["state"].set("exec_booked_seq", 1)
    segs["exec"].write_batch(np.zeros(capacity // 2 - 4, R.EXEC_DTYPE))
    gateway.on_start()
    assert gateway.session.replay.active and len(gateway.session.replay.trades) == 8
    assert gateway.session.replay.holds_quoting
    before = segs["exec"].tail
    gateway.do_work()
    assert segs["exec"].tail == before                             # no room until risk reads
    segs["state"].set("exec_booked_seq", before + 1)               # risk caught up
    wait_until(lambda: not gateway.session.replay.active, 10, gateway.do_work, "the replay done")
    got = [r for r in drain(exec_reader, R.EXEC_DTYPE) if r["type"]]
    assert types(got) == [R.EXEC_TRADE] * 12 + [R.EXEC_POSITION, R.EXEC_RECONCILED]
    assert not gateway.session.replay.holds_quoting


def test_risks_request_is_answered_with_its_sequence_and_one_during_a_replay_by_another(
        segs, sim, account, gateway, exec_reader):
    make_trades(sim, account, 3)
    gateway.on_start()
    drain(exec_reader, R.EXEC_DTYPE)
    segs["state"].set("reconcile_request_seq", 7)                 # risk restarted
    gateway.do_work()
    got = drain(exec_reader, R.EXEC_DTYPE)
    assert types(got) == [R.EXEC_TRADE] * 3 + [R.EXEC_POSITION, R.EXEC_RECONCILED] and got[-1]["seq"] == 7
    replay = gateway.session.replay
    replay.active, replay.answering = True, 7                     # as if a replay were under way...
    segs["state"].set("reconcile_request_seq", 8)                 # ...when risk asks again
    markers = []

    def answered() -> bool:      # requests are read within gateway.agent.COMMANDS_NS, not every pass
        markers.extend(int(r["seq"]) for r in drain(exec_reader, R.EXEC_DTYPE) if r["type"] == R.EXEC_RECONCILED)
        return 8 in markers and not replay.active and not replay.again
    wait_until(answered, 10, gateway.do_work, "both answered")
    assert markers == [7, 8]


def test_an_unreadable_portfolio_ends_the_replay_without_a_marker_and_it_is_tried_again(
        segs, sim, account, gateway, exec_reader, monkeypatch):
    gateway.on_start()
    drain(exec_reader, R.EXEC_DTYPE)
    client = gateway.session.client
    real = client.portfolio
    monkeypatch.setattr(client, "portfolio", lambda **kw: {"not": "a list"})
    monkeypatch.setattr(replay_module, "RETRY_S", 0.2)
    segs["state"].set("reconcile_request_seq", 3)
    gateway.do_work()
    assert R.EXEC_RECONCILED not in types(drain(exec_reader, R.EXEC_DTYPE))
    assert gateway.session.replay.failures == 1
    monkeypatch.setattr(client, "portfolio", real)
    time.sleep(0.25)
    wait_until(lambda: gateway.session.replay.replays >= 3, 5, gateway.do_work, "tried again")
    got = drain(exec_reader, R.EXEC_DTYPE)
    assert types(got)[-1] == R.EXEC_RECONCILED and got[-1]["seq"] == 3
