"""The pre-trade checks at the gateway, over real rings and the real gate segment: no ladder
reaches the exchange without them, fills not yet booked by risk count at once, and a silent,
halted or paused risk picture pulls what rests and refuses ladders until it lifts."""
import time

import numpy as np
import pytest

from procs.gateway.open_orders import OpenOrders
from procs.gateway.pretrade import ExecTap, PreTrade
from shm import records as R
from shm.gate import GateView
from shm.state import HALTED

from agent_kit import BTC, execution, ladder, open_gate, risk_conf, wait_until
from test_gateway_agent import BIDS, ASKS, resting, start_gateway

pytestmark = pytest.mark.timeout(60)
RISK = risk_conf(max_position=0.05, max_order_size=0.02)


@pytest.fixture
def gateway(segs, instance, sim, account):
    gw = start_gateway(instance, sim, account, risk_timeout_s=0.5)   # the gate is written by each test
    yield gw
    gw.on_close()


def until(gw, predicate, what, timeout_s=10.0):
    return wait_until(predicate, timeout_s, gw.do_work, what)


def keep_gate(segs, **gate):
    """A step for ``until`` that keeps the gate's heartbeat fresh, as a live risk process would."""
    def step():
        open_gate(segs, conf=RISK, **gate)
    return step


def test_a_ladder_beyond_max_position_is_trimmed_before_it_reaches_the_exchange(segs, gateway, exchange_state,
                                                                                account):
    open_gate(segs, position=0.04, conf=RISK)
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS, amount=0.02))
    until(gateway, lambda: resting(exchange_state, account) == [("buy", 99_990.0, 0.01), ("sell", 100_010.0, 0.02),
                                                                ("sell", 100_020.0, 0.02)], "the trimmed ladder")
    assert gateway.pretrade.trimmed == 1


def test_nothing_is_quoted_before_risk_wrote_the_gate_and_the_newest_ladder_goes_out_once_it_has(
        segs, gateway, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    for _ in range(20):
        gateway.do_work()
    assert resting(exchange_state, account) == [] and gateway.quoting_blocked
    open_gate(segs, conf=RISK)
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting once the gate opened")


def test_a_silent_risk_process_pulls_what_rests_and_ladders_are_refused_until_it_speaks_again(
        segs, gateway, exchange_state, account):
    open_gate(segs, conf=RISK)
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    # risk stops writing: after risk_timeout_s (0.5 s) the gateway pulls everything by itself
    until(gateway, lambda: resting(exchange_state, account) == [], "the quotes pulled", timeout_s=5.0)
    segs["quotes"].write(ladder(bids=[99_950.0], asks=[100_050.0]))
    for _ in range(20):
        gateway.do_work()
    assert resting(exchange_state, account) == []
    open_gate(segs, conf=RISK)
    until(gateway, lambda: resting(exchange_state, account) == [("buy", 99_950.0, 0.01), ("sell", 100_050.0, 0.01)],
          "the newest ladder once risk speaks again")


def test_halted_in_the_gate_pulls_and_a_ladder_leaves_as_a_pull(segs, gateway, exchange_state, account):
    step = keep_gate(segs)
    step()
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    halted = keep_gate(segs, state=HALTED, block=R.RISK_HALTED)
    wait_until(lambda: resting(exchange_state, account) == [], 10.0, lambda: (halted(), gateway.do_work()),
               "the quotes pulled on HALTED")
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    for _ in range(20):
        halted()
        gateway.do_work()
    assert resting(exchange_state, account) == []


def test_pause_pulls_at_once_and_unpausing_quotes_the_newest_ladder_again(segs, gateway, exchange_state, account):
    step = keep_gate(segs)
    step()
    q = ladder(bids=BIDS, asks=ASKS)
    q["md_receive_ts_ns"] = time.monotonic_ns()
    segs["quotes"].write(q)
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    assert (len(gateway.quoting.send_lat), gateway.quoting.resends) == (1, 0)
    segs["state"].set("paused", 1)
    wait_until(lambda: resting(exchange_state, account) == [], 10.0, lambda: (step(), gateway.do_work()),
               "the quotes pulled on pause")
    segs["state"].set("paused", 0)
    wait_until(lambda: len(resting(exchange_state, account)) == 4, 10.0, lambda: (step(), gateway.do_work()),
               "quoting again after the pause")
    # the same ladder sent again: a resend, not a sample of how fast we react to the market
    assert (len(gateway.quoting.send_lat), gateway.quoting.resends) == (1, 1)


@pytest.fixture
def checks(segs, instance):
    """A PreTrade over the real gate and exec segments, as the gateway builds it."""
    tap = ExecTap(segs["exec"])
    open_orders = OpenOrders(1, segs["state"])
    view = GateView(segs["gate"])
    yield PreTrade(view, tap, open_orders, segs["state"].table["paused"], risk_timeout_s=5.0,
                   instruments=[BTC]), tap, open_orders


def test_fills_written_but_not_yet_booked_count_against_the_limit_on_both_sides(segs, checks):
    pre, tap, _ = checks
    open_gate(segs, position=0.0, exec_booked=0, conf=RISK)
    tap.write(execution(R.EXEC_FILL, side=1, amount=0.03))      # sequence 0: not booked yet
    tap.write(execution(R.EXEC_ACK))
    pre.refresh(time.monotonic_ns())
    q = ladder(bids=[99_990.0, 99_980.0], asks=[100_010.0, 100_020.0], amount=0.02)
    assert pre.check(q, 0) & R.RISK_TRIM_POSITION
    assert sum(q["bid_amount"][0][:int(q["n_bids"][0])]) == pytest.approx(0.02)   # 0.05 - 0.03
    assert sum(q["ask_amount"][0][:int(q["n_asks"][0])]) == pytest.approx(0.04)   # the short side: as booked
    # risk booked it (its gate says so): the same room, now from the booked position
    open_gate(segs, position=0.03, exec_booked=2, conf=RISK)
    pre.refresh(time.monotonic_ns())
    q = ladder(bids=[99_990.0, 99_980.0], asks=[100_010.0], amount=0.02)
    pre.check(q, 0)
    assert sum(q["bid_amount"][0][:int(q["n_bids"][0])]) == pytest.approx(0.02)
    assert tap.fills == type(tap.fills)()          # nothing left unbooked


def test_a_fast_cancel_is_checked_without_waiting_for_anything_and_keeps_its_pull(segs, checks):
    pre, tap, _ = checks
    open_gate(segs, position=0.0, conf=RISK)
    for k in range(50):                                        # a burst of fills risk has not booked
        tap.write(execution(R.EXEC_FILL, side=-1, amount=0.001, trade_id=100 + k))
    pre.refresh(time.monotonic_ns())
    q = ladder(bids=[99_990.0], asks=[], amount=0.01)
    q["flags"] = R.QUOTE_FLAG_FAST_CANCEL                      # the asks pulled, the bids widened
    assert pre.check(q, 0) == 0
    assert (q["type"][0], q["n_bids"][0], q["n_asks"][0]) == (R.QUOTE_SET, 1, 0)


def test_a_gate_older_than_the_timeout_blocks_with_its_own_reason(segs, checks):
    pre, _, _ = checks
    open_gate(segs, conf=RISK, heartbeat_ns=time.monotonic_ns() - 6_000_000_000)
    assert pre.refresh(time.monotonic_ns()) == R.RISK_GATE_STALE
    q = ladder(bids=[99_990.0])
    assert pre.check(q, 0) == R.RISK_GATE_STALE and q["type"][0] == R.QUOTE_PULL
    open_gate(segs, conf=RISK)
    assert pre.refresh(time.monotonic_ns()) == 0


def test_each_instrument_is_checked_against_its_own_limits_and_the_portfolio_from_the_gate(segs):
    """Two BTC instruments (a perpetual and a future): the future's own max_position, and the BTC
    net delta beyond its band (through the future) leaving the perpetual only its asks."""
    from procs.risk.gate_publisher import GatePublisher
    from procs.risk.limits import Limits
    from procs.risk.portfolio import Portfolio, PortfolioLimits
    from runtime.settings import Instrument
    from shm.gate import GATE_DTYPE
    from shm.state import REDUCING
    fut = Instrument(1, "BTC-25DEC26", "FBTCUSD", 1.0, 0.001, 0.001, 1.8e9)
    instruments = [BTC, fut]
    limits = [Limits(1.0, 1e9, 0.5, 500.0, 0.001, 0.001), Limits(0.01, 1e9, 0.5, 500.0, 0.001, 0.001)]
    portfolio = Portfolio(instruments, PortfolioLimits(1_000.0, 0.0, 0.8))
    positions, marks = [0.0, 0.009], [100_000.0, 100_000.0]       # 900 USD of BTC: beyond 800
    portfolio.update(positions, marks)
    publisher = GatePublisher(segs["gate"], instruments, limits, portfolio)
    publisher.publish(time.monotonic_ns(), True, 0, REDUCING, positions, marks, True, portfolio)
    view = GateView(segs["gate"])
    pre = PreTrade(view, ExecTap(segs["exec"]), OpenOrders(2, segs["state"]), segs["state"].table["paused"],
                   risk_timeout_s=5.0, instruments=instruments)
    assert pre.refresh(time.monotonic_ns()) == 0
    g = np.zeros(1, GATE_DTYPE)
    segs["gate"].read_into(g)
    assert g["delta_band"][0] == 0b11 and g["net_delta_usd"][0][0] == pytest.approx(900.0)
    perp = ladder(bids=[99_990.0], asks=[100_010.0], amount=0.001, iid=0)
    assert pre.check(perp, 0) & R.RISK_REDUCING       # flat itself, yet only the side that shrinks BTC delta
    assert (perp["n_bids"][0], perp["n_asks"][0]) == (0, 1)
    future = ladder(bids=[99_990.0], asks=[100_010.0, 100_020.0], amount=0.01, iid=1)
    assert pre.check(future, 1) & R.RISK_TRIM_POSITION
    assert future["n_bids"][0] == 0                    # long and beyond the band: no bids
    asks = future["ask_amount"][0][:int(future["n_asks"][0])]
    assert sum(asks) == pytest.approx(0.019)           # its own max_position: 0.009 long -> 0.01 short
    view.close()


def test_rehearsing_the_newest_ladder_sends_nothing_and_counts_nothing(segs, gateway, exchange_state, account):
    step = keep_gate(segs)
    step()
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gateway, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    sent, checked, placed = gateway.quoting.sent, gateway.pretrade.checked, resting(exchange_state, account)
    for _ in range(50):
        gateway.quoting.rehearse()
    step()
    gateway.do_work()
    assert (gateway.quoting.sent, gateway.pretrade.checked) == (sent, checked)
    assert resting(exchange_state, account) == placed and not gateway.quoting.desired
