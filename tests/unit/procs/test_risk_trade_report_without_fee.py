"""Risk and trade reports that carry no fee (the spec makes Trade.fee optional; the gateway marks
it NaN): the fee already booked stays, and a trade first heard of this way is booked with the
configured rate, never with 0 and never as a crash. Real rings in shared memory."""
import math

import numpy as np
import pytest

from conf.schema import Risk
from procs.risk.agent import RiskAgent
from runtime import segments
from runtime.settings import Instrument
from shm import records as R

BTC = Instrument(0, "BTC-PERPETUAL", "FBTCUSD", 1.0, 0.001, 0.001, 0.0)


@pytest.fixture
def risk(instance):
    segs = segments.create_all(instance)
    agent = RiskAgent(instance, [BTC], Risk(maker_fee_rate=0.0001, taker_fee_rate=0.0005))
    agent.on_start()
    yield agent, segs["exec"]
    agent.on_close()
    for seg in segs.values():
        seg.close()


def report(exec_ring, kind, trade_id, fee, liquidity=0, side=1, price=100_000.0, amount=0.01):
    rec = np.zeros(1, R.EXEC_DTYPE)
    rec["type"], rec["instrument_id"], rec["side"] = kind, 0, side
    rec["trade_id_hi"], rec["trade_id_lo"] = R.split_trade_id(trade_id)
    rec["price"], rec["amount"], rec["fee"], rec["liquidity"] = price, amount, fee, liquidity
    rec["remaining"], rec["position"] = 0.0, math.nan
    exec_ring.write(rec)


def test_a_report_without_fee_keeps_the_booked_fee_and_a_real_fee_corrects_it(risk):
    agent, exec_ring = risk
    report(exec_ring, R.EXEC_FILL, 5, 0.0, R.LIQ_MAKER)          # booked at the maker rate
    agent._drain_exec()
    assert agent.book.fees == pytest.approx(0.1)
    report(exec_ring, R.EXEC_TRADE, 5, math.nan)                  # trade history, fee unknown
    agent._drain_exec()
    assert agent.book.fees == pytest.approx(0.1) and agent.book.fills == 1
    report(exec_ring, R.EXEC_TRADE, 5, 0.08)                      # the exchange's own figure
    agent._drain_exec()
    assert agent.book.fees == pytest.approx(0.08)


def test_a_trade_first_heard_of_without_fee_is_booked_at_the_configured_rate(risk):
    agent, exec_ring = risk
    report(exec_ring, R.EXEC_TRADE, 6, math.nan)                  # liquidity unknown: taker rate
    report(exec_ring, R.EXEC_TRADE, 7, math.nan, R.LIQ_MAKER, side=-1, amount=0.004)
    agent._drain_exec()
    assert agent.book.position[0] == pytest.approx(0.006) and agent.book.fills == 2
    assert agent.book.fees == pytest.approx(0.5 + 0.04)
    assert math.isfinite(agent.book.fees)
