"""Executions are input: risk's last look refuses what the decoders should have, never books it,
counts and logs it once per reason, asks the gateway to reconcile and pulls. A fee of NaN in a
trade report means "fee unknown" and is booked. The journal never holds a number that is not
finite, so a restart never comes back from garbage. Real rings in shared memory."""
import json
import logging
import math

import numpy as np
import pytest

from procs.risk.agent import RiskAgent
from shm import records as R

from agent_kit import BTC, MARK, drain, execution, many, marker, reconcile, risk_conf, ticker

CONF = risk_conf(max_position=0.05, max_order_size=0.02, max_notional=1e9, stop_loss=0.0, max_drawdown=0.0)
INF, NAN = math.inf, math.nan


@pytest.fixture
def risk(segs, instance, tmp_path):
    agent = RiskAgent(instance, [BTC], CONF, run_dir=tmp_path)
    agent.on_start()
    segs["md"].write(ticker())
    reconcile(segs, agent)
    agent.reconciliation.min_interval_s = 0.0
    yield agent
    agent.on_close()


def trade(trade_id=1, **fields):
    e = execution(R.EXEC_FILL, side=1, price=MARK, amount=0.01, trade_id=trade_id, fee=0.05)
    for name, value in fields.items():
        e[name] = value
    return e


@pytest.mark.parametrize("fields, why", [
    (dict(price=1e300), "price"),                       # absurd but finite
    (dict(price=INF), "price"),
    (dict(price=NAN), "price"),
    (dict(price=MARK * 11), "away from the mark"),
    (dict(price=MARK / 11), "away from the mark"),
    (dict(amount=0.0), "amount"),
    (dict(amount=-0.01), "amount"),
    (dict(amount=NAN), "amount"),
    (dict(amount=1e12), "amount"),
    (dict(fee=INF), "fee"),
    (dict(fee=-INF), "fee"),
    (dict(fee=NAN), "fee"),                             # in a fill NaN is garbage (0 is "unknown")
    (dict(fee=1e12), "fee"),
    (dict(fee=-1e6), "fee"),                            # an absurd rebate
    (dict(side=0), "side"),
    (dict(trade_id_hi=0, trade_id_lo=0), "trade id 0"),
    (dict(exchange_ts_ns=2**62), "ahead of our clock"),
    (dict(type=R.EXEC_TRADE, fee=INF), "fee"),
    (dict(type=R.EXEC_TRADE, amount=0.0), "amount"),
])
def test_an_unusable_execution_is_refused_counted_logged_and_makes_risk_reconcile(segs, risk, caplog, fields, why):
    asked = segs["state"].get("reconcile_request_seq")
    with caplog.at_level(logging.ERROR, logger="risk"):
        segs["exec"].write(trade(**fields))
        segs["exec"].write(trade(trade_id=2, **fields))       # the same again: counted, not logged
        risk.do_work()
    assert risk.book.fills == 0 and risk.book.position[0] == 0.0 and risk.malformed == 2
    assert math.isfinite(risk.state.get("equity")) and risk.state.get("fees") == 0.0
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and why in refused[0].getMessage()
    assert not risk.reconciliation.reconciled
    newest = segs["state"].get("reconcile_request_seq")
    assert newest > asked
    (pull,) = drain(segs["orders"], R.QUOTE_DTYPE)
    assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_RECONCILING
    segs["exec"].write(marker(newest))                       # the gateway's answer
    risk.do_work()
    assert risk.reconciliation.reconciled


def test_a_trade_report_without_a_fee_is_booked_not_refused(segs, risk):
    segs["exec"].write(trade(type=R.EXEC_TRADE, fee=NAN, liquidity=R.LIQ_MAKER))
    risk.do_work()
    assert risk.book.fills == 1 and risk.malformed == 0 and risk.reconciliation.reconciled
    assert risk.book.fees == pytest.approx(CONF.maker_fee_rate * MARK * 0.01)


def test_a_position_that_is_not_a_number_is_refused_and_the_book_keeps_its_own(segs, risk):
    segs["exec"].write(trade())
    for bad in (NAN, INF, 1e300):
        segs["exec"].write(execution(R.EXEC_POSITION, position=bad))
    risk.do_work()
    assert risk.book.position[0] == pytest.approx(0.01) and risk.malformed == 3


def test_a_burst_of_refusals_costs_one_request_per_interval(segs, risk):
    risk.reconciliation.min_interval_s = 3600.0
    asked = segs["state"].get("reconcile_request_seq")
    segs["exec"].write_batch(many([trade(trade_id=i, price=1e300) for i in range(1, 50)], R.EXEC_DTYPE))
    risk.do_work()
    risk.do_work()
    assert risk.malformed == 49
    assert segs["state"].get("reconcile_request_seq") <= asked + 1


def test_a_restart_after_garbage_comes_back_with_a_finite_book_not_halted(segs, instance, tmp_path, risk):
    segs["exec"].write(trade())
    segs["exec"].write(trade(trade_id=2, price=1e300, amount=1e5, fee=1e300))
    risk.do_work()
    risk.on_close()
    text = (tmp_path / "risk_book.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    data = json.loads(text)
    assert data["book"]["fills"] == 1
    again = RiskAgent(instance, [BTC], CONF, run_dir=tmp_path)
    again.on_start()
    try:
        reconcile(segs, again)
        s = again.state.snapshot()
        assert s["trading_state_name"] == "ACTIVE" and np.isfinite(s["equity"]) and again.book.fills == 1
    finally:
        again.on_close()
    risk.on_close = lambda: None
