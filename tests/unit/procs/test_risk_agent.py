"""The risk agent over real rings in a temporary segment: fills in -> positions and P&L in the shared
state and in the gate the gateway checks ladders against (with the exec sequence booked, what
blocks quoting and a heartbeat), every ladder seen on quote_log, commands -> trading state and
pulls, duplicates counted apart from malformed input, a lap asking for reconciliation (the gate
blocks until it is done). Restarts: test_risk_restart.py; refused input: test_risk_input.py."""
import time

import numpy as np
import pytest

from procs.risk.agent import RiskAgent
from shm import records as R
from shm.gate import GATE_DTYPE, HEARTBEAT_NS
from shm.state import ACTIVE, HALTED

from agent_kit import BTC, MARK, drain, execution, ladder, many, marker, reconcile, risk_conf, ticker

CONF = risk_conf(max_position=0.05, max_order_size=0.02, max_notional=1e9, stop_loss=0.0, max_drawdown=0.0)


@pytest.fixture
def risk(segs, instance, tmp_path):
    """A started RiskAgent with a mark of 100000 already seen; closed after the test."""
    agent = RiskAgent(instance, [BTC], CONF, run_dir=tmp_path)
    agent.on_start()
    segs["md"].write(ticker())
    reconcile(segs, agent)
    yield agent
    agent.on_close()


def orders_out(segs):
    return drain(segs["orders"], R.QUOTE_DTYPE)


def gate(segs):
    g = np.zeros(1, GATE_DTYPE)
    assert segs["gate"].read_into(g), "risk wrote no whole gate"
    return g[0]


def test_the_gate_carries_the_limits_the_mark_and_a_fresh_heartbeat(segs, risk):
    g = gate(segs)
    assert (g["max_position"][0], g["max_order_size"][0], g["n_instruments"]) == (0.05, 0.02, 1)
    assert (g["amount_tick"][0], g["min_amount"][0], g["mark"][0]) == (BTC.amount_tick, BTC.min_amount, MARK)
    first = int(g["heartbeat_ns"])
    time.sleep(HEARTBEAT_NS / 1e9 * 1.5)
    risk.do_work()                                          # nothing new: the heartbeat is written anyway
    assert int(gate(segs)["heartbeat_ns"]) > first


def test_every_ladder_on_quote_log_is_seen_and_what_the_checks_would_trim_is_counted(segs, risk):
    segs["quote_log"].write(ladder(bids=[99_990.0, 99_980.0], asks=[100_010.0], amount=0.01))
    segs["quote_log"].write(ladder(bids=[99_990.0, 99_980.0, 99_970.0, 99_960.0], asks=[100_010.0], amount=0.03))
    assert risk.do_work() >= 2
    assert (risk.ladders, risk.denied) == (2, 1)
    assert len(orders_out(segs)) == 0                       # ladders go quoter -> gateway, not through risk


def test_a_fill_on_exec_becomes_the_position_and_the_pnl_in_the_shared_state(segs, risk):
    segs["exec"].write(execution(R.EXEC_FILL, side=1, price=99_990.0, amount=0.02, trade_id=7, fee=0.1))
    risk.do_work()
    s = risk.state.snapshot()
    assert risk.book.position[0] == pytest.approx(0.02) and s["position"][0] == pytest.approx(0.02)
    assert s["fills"] == 1 and s["fees"] == pytest.approx(0.1) and s["average_price"][0] == 99_990.0
    assert s["unrealised"] == pytest.approx(0.02 * (MARK - 99_990.0))
    assert s["equity"] == pytest.approx(0.02 * 10.0 - 0.1)


def test_the_gate_carries_the_position_with_the_exec_sequence_it_was_booked_through(segs, risk):
    segs["exec"].write(execution(R.EXEC_ACK))
    segs["exec"].write(execution(R.EXEC_FILL, side=1, amount=0.04, trade_id=8))
    risk.do_work()
    g = gate(segs)
    assert g["position"][0] == pytest.approx(0.04) and int(g["exec_booked"]) == int(segs["exec"].tail)


def test_a_trade_reported_twice_is_booked_once_and_counted_as_a_duplicate_not_as_malformed(segs, risk):
    segs["exec"].write(execution(R.EXEC_TRADE, side=-1, amount=0.01, trade_id=9, fee=0.05))
    segs["exec"].write(execution(R.EXEC_FILL, side=-1, amount=0.01, trade_id=9))
    risk.do_work()
    slot = segs["counters"].register(2, "risk")
    risk.report(slot)
    assert risk.book.position[0] == pytest.approx(-0.01) and risk.book.fills == 1
    assert risk.book.fees == pytest.approx(0.05)            # the exchange's fee, not the configured rate
    assert (slot.get("duplicates"), slot.get("malformed")) == (1, 0)


def test_input_risk_cannot_use_is_counted_as_malformed_and_books_nothing(segs, risk):
    segs["exec"].write(execution(R.EXEC_FILL, amount=0.01, trade_id=10, iid=5))        # no instrument 5
    segs["exec"].write(execution(R.EXEC_FILL, amount=-0.01, trade_id=11))              # negative amount
    segs["exec"].write(execution(R.EXEC_POSITION, position=np.nan))                    # not a number
    segs["quote_log"].write(ladder(bids=[99_990.0], iid=5))
    risk.do_work()
    slot = segs["counters"].register(2, "risk")
    risk.report(slot)
    assert (slot.get("malformed"), slot.get("duplicates")) == (4, 0)
    assert risk.book.position[0] == 0.0 and risk.book.fills == 0
    # the refused executions make risk reconcile: one pull of instrument 0, nothing of instrument 5
    assert [(int(r["type"]), int(r["instrument_id"])) for r in orders_out(segs)] == [(R.QUOTE_PULL, 0)]


def test_the_exchanges_position_is_adopted_and_the_mismatch_counted_as_an_error(segs, risk):
    segs["exec"].write(execution(R.EXEC_POSITION, position=0.03))
    risk.do_work()
    slot = segs["counters"].register(2, "risk")
    risk.report(slot)
    assert risk.book.position[0] == pytest.approx(0.03) and slot.get("errors") == 1


def test_a_halt_command_pulls_every_instrument_and_blocks_quoting_in_the_gate(segs, risk):
    risk.state.bump("halt_request_seq")
    risk.do_work()
    (pull,) = orders_out(segs)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_HALTED
    s = risk.state.snapshot()
    assert (s["trading_state"], s["reason_text"]) == (HALTED, "operator halt")
    g = gate(segs)
    assert (g["trading_state"], g["block"]) == (HALTED, R.RISK_HALTED)
    risk.state.bump("resume_request_seq")
    risk.do_work()
    assert risk.state.get("trading_state") == ACTIVE and gate(segs)["block"] == 0


def test_flatten_halts_and_sends_a_reduce_only_close_of_the_position(segs, risk):
    segs["exec"].write(execution(R.EXEC_FILL, side=-1, amount=0.02, trade_id=12))
    risk.do_work()
    risk.state.bump("flatten_request_seq")
    risk.do_work()
    records = orders_out(segs)
    assert [int(r["type"]) for r in records] == [R.QUOTE_PULL, R.QUOTE_FLATTEN]
    close = records[1]
    assert (close["n_bids"], close["bid_amount"][0]) == (1, pytest.approx(0.02))
    assert risk.state.snapshot()["reason_text"] == "flatten"


def test_missed_executions_pull_and_block_quoting_until_the_gateway_has_reconciled(segs, risk):
    assert gate(segs)["block"] == 0
    asked = risk.state.get("reconcile_request_seq")
    risk.reconciliation.min_interval_s = 0.0
    burst = many([execution(R.EXEC_ACK)] * (segs["exec"].capacity + 10), R.EXEC_DTYPE)
    segs["exec"].write_batch(burst)
    risk.do_work()
    assert risk.lapped == 1 and risk.state.get("trading_state") == ACTIVE
    assert risk.state.get("reconcile_request_seq") == asked + 1           # the gateway is asked
    (pull,) = orders_out(segs)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_RECONCILING
    assert gate(segs)["block"] == R.RISK_RECONCILING                      # the gateway refuses ladders
    segs["exec"].write(marker(asked))                                      # an older answer: not enough
    risk.do_work()
    assert not risk.reconciliation.reconciled and gate(segs)["block"] == R.RISK_RECONCILING
    segs["exec"].write(marker(asked + 1))
    risk.do_work()
    assert risk.reconciliation.reconciled and gate(segs)["block"] == 0    # quoting again at once
