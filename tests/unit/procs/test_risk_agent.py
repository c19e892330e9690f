"""The risk agent over real rings in a temporary segment: ladders in -> approved or trimmed ladders
out, fills in -> positions and P&L in the shared state, commands -> trading state and pulls,
pause pulling at once and its end quoting again, duplicates counted apart from malformed input,
a lap asking for reconciliation. Restarts: test_risk_restart.py; refused input: test_risk_input.py."""
import numpy as np
import pytest

from procs.risk.agent import RiskAgent
from shm import records as R
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


def test_a_ladder_within_the_limits_goes_out_on_orders_unchanged(segs, risk):
    segs["quotes"].write(ladder(bids=[99_990.0, 99_980.0], asks=[100_010.0], amount=0.01))
    assert risk.do_work() >= 1
    (q,) = orders_out(segs)
    assert q["type"] == R.QUOTE_SET and q["reason"] == 0
    assert (q["n_bids"], q["n_asks"]) == (2, 1)
    assert list(q["bid_amount"][:2]) == [0.01, 0.01] and q["ask_price"][0] == 100_010.0


def test_a_ladder_beyond_max_order_size_and_max_position_comes_out_trimmed(segs, risk):
    segs["quotes"].write(ladder(bids=[99_990.0, 99_980.0, 99_970.0, 99_960.0], asks=[100_010.0], amount=0.03))
    risk.do_work()
    (q,) = orders_out(segs)
    assert q["reason"] & R.RISK_TRIM_ORDER_SIZE and q["reason"] & R.RISK_TRIM_POSITION
    bids = np.round(q["bid_amount"][:q["n_bids"]], 9)
    assert list(bids) == [0.02, 0.02, 0.01] and sum(bids) <= CONF.max_position + 1e-12
    assert risk.denied == 1


def test_a_fill_on_exec_becomes_the_position_and_the_pnl_in_the_shared_state(segs, risk):
    segs["exec"].write(execution(R.EXEC_FILL, side=1, price=99_990.0, amount=0.02, trade_id=7, fee=0.1))
    risk.do_work()
    s = risk.state.snapshot()
    assert risk.book.position[0] == pytest.approx(0.02) and s["position"][0] == pytest.approx(0.02)
    assert s["fills"] == 1 and s["fees"] == pytest.approx(0.1) and s["average_price"][0] == 99_990.0
    assert s["unrealised"] == pytest.approx(0.02 * (MARK - 99_990.0))
    assert s["equity"] == pytest.approx(0.02 * 10.0 - 0.1)


def test_the_position_counts_against_the_next_ladder(segs, risk):
    segs["exec"].write(execution(R.EXEC_FILL, side=1, amount=0.04, trade_id=8))
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0], amount=0.02))
    risk.do_work()
    (q,) = orders_out(segs)
    assert q["bid_amount"][0] == pytest.approx(0.01) and q["ask_amount"][0] == pytest.approx(0.02)


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
    segs["quotes"].write(ladder(bids=[99_990.0], iid=5))
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


def test_a_halt_command_pulls_every_instrument_and_later_ladders_go_out_as_pulls(segs, risk):
    risk.state.bump("halt_request_seq")
    risk.do_work()
    (pull,) = orders_out(segs)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_HALTED
    s = risk.state.snapshot()
    assert (s["trading_state"], s["reason_text"]) == (HALTED, "operator halt")
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0]))
    risk.do_work()
    (q,) = orders_out(segs)
    assert q["type"] == R.QUOTE_PULL and (q["n_bids"], q["n_asks"]) == (0, 0)
    risk.state.bump("resume_request_seq")
    risk.do_work()
    assert risk.state.get("trading_state") == ACTIVE


def test_pause_turns_ladders_into_pulls_without_changing_the_trading_state(segs, risk):
    risk.state.set("paused", 1)
    risk.do_work()
    orders_out(segs)                                          # the pull of the pause itself
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0]))
    risk.do_work()
    (q,) = orders_out(segs)
    assert q["type"] == R.QUOTE_PULL and q["reason"] & R.RISK_PAUSED
    assert risk.state.get("trading_state") == ACTIVE


def test_pause_pulls_what_rests_at_once_with_no_new_ladder_and_its_end_quotes_again(segs, risk):
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0]))
    risk.do_work()
    (sent,) = orders_out(segs)
    assert sent["type"] == R.QUOTE_SET
    risk.state.set("paused", 1)          # a quiet market: the quoter publishes nothing new
    risk.do_work()
    (pull,) = orders_out(segs)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_PAUSED
    risk.do_work()
    assert len(orders_out(segs)) == 0    # pulled once, not on every pass
    risk.state.set("paused", 0)
    risk.do_work()
    (again,) = orders_out(segs)          # the newest ladder, through the checks again
    assert again["type"] == R.QUOTE_SET and (again["n_bids"], again["n_asks"]) == (1, 1)
    assert again["bid_price"][0] == 99_990.0 and again["ask_price"][0] == 100_010.0


def test_resume_after_a_halt_quotes_the_newest_ladder_again_without_a_new_one(segs, risk):
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0]))
    risk.do_work()
    risk.state.bump("halt_request_seq")
    risk.do_work()
    assert [int(r["type"]) for r in orders_out(segs)] == [R.QUOTE_SET, R.QUOTE_PULL]
    risk.state.bump("resume_request_seq")
    risk.do_work()
    (again,) = orders_out(segs)
    assert again["type"] == R.QUOTE_SET and again["bid_price"][0] == 99_990.0


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


def test_missed_executions_pull_and_approve_nothing_until_the_gateway_has_reconciled(segs, risk):
    segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0]))
    risk.do_work()
    orders_out(segs)
    asked = risk.state.get("reconcile_request_seq")
    risk.reconciliation.min_interval_s = 0.0
    burst = many([execution(R.EXEC_ACK)] * (segs["exec"].capacity + 10), R.EXEC_DTYPE)
    segs["exec"].write_batch(burst)
    risk.do_work()
    assert risk.lapped == 1 and risk.state.get("trading_state") == ACTIVE
    assert risk.state.get("reconcile_request_seq") == asked + 1           # the gateway is asked
    (pull,) = orders_out(segs)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_RECONCILING
    segs["quotes"].write(ladder(bids=[99_980.0], asks=[100_020.0]))
    risk.do_work()
    (q,) = orders_out(segs)
    assert q["type"] == R.QUOTE_PULL and q["reason"] & R.RISK_RECONCILING
    segs["exec"].write(marker(asked))                                      # an older answer: not enough
    risk.do_work()
    assert not risk.reconciliation.reconciled and len(orders_out(segs)) == 0
    segs["exec"].write(marker(asked + 1))
    risk.do_work()
    (again,) = orders_out(segs)                                            # the newest ladder, approved
    assert again["type"] == R.QUOTE_SET and again["bid_price"][0] == 99_980.0


def test_a_full_orders_ring_keeps_the_newest_ladder_and_sends_it_when_there_is_room(segs, risk):
    capacity = segs["orders"].capacity
    for _ in range(capacity):                  # nobody drains ``orders``: risk fills it
        assert segs["quotes"].write(ladder(bids=[99_990.0])) == 0
    risk.do_work()
    assert risk.ring_full == 0 and segs["orders"].depth == capacity
    segs["quotes"].write(ladder(bids=[99_980.0]))
    segs["quotes"].write(ladder(bids=[99_970.0]))
    risk.do_work()
    assert risk.ring_full == 1 and risk.pending[0]["bid_price"][0][0] == 99_970.0
    first = orders_out(segs)
    assert len(first) == capacity and all(r["bid_price"][0] == 99_990.0 for r in first)
    risk.do_work()
    (newest,) = orders_out(segs)
    assert newest["bid_price"][0] == 99_970.0 and not risk.pending
