"""Pre-trade checks: each denial leaves a reason bit and never lets a ladder exceed a limit."""
import numpy as np
import pytest

from procs.risk.limits import Limits, approve
from shm import records as R

LIM = Limits(max_position=0.01, max_notional=1e9, max_order_size=0.004, price_band_bps=100.0,
             amount_tick=0.001, min_amount=0.001)
MARK = 100_000.0


def ladder(bids=(99_990, 99_980, 99_970), asks=(100_010, 100_020, 100_030), amount=0.003):
    q = np.zeros(1, R.QUOTE_DTYPE)
    q["type"], q["n_bids"], q["n_asks"] = R.QUOTE_SET, len(bids), len(asks)
    q["bid_price"][0][:len(bids)], q["ask_price"][0][:len(asks)] = bids, asks
    q["bid_amount"][0][:len(bids)], q["ask_amount"][0][:len(asks)] = amount, amount
    return q


def side(q, name):
    n = int(q[f"n_{name}s"][0])
    return list(q[f"{name}_price"][0][:n]), list(np.round(q[f"{name}_amount"][0][:n], 9))


def test_a_ladder_within_every_limit_passes_untouched():
    q = ladder()
    assert approve(q, 0.0, MARK, LIM, False, False, False) == 0
    assert side(q, "bid") == ([99_990, 99_980, 99_970], [0.003] * 3)


def test_position_plus_open_orders_plus_the_ladder_stays_within_max_position():
    q = ladder()
    reason = approve(q, 0.004, MARK, LIM, False, False, False, open_bid=0.002)
    assert reason & R.RISK_TRIM_POSITION
    assert 0.004 + 0.002 + sum(side(q, "bid")[1]) <= 0.01 + 1e-12
    assert sum(side(q, "ask")[1]) == pytest.approx(0.009)   # selling reduces: the ask side keeps more


def test_orders_larger_than_max_order_size_are_cut():
    q = ladder(amount=0.009)
    assert approve(q, 0.0, MARK, LIM, False, False, False) & R.RISK_TRIM_ORDER_SIZE
    assert max(side(q, "bid")[1] + side(q, "ask")[1]) <= 0.004


def test_levels_outside_the_price_band_are_dropped():
    q = ladder(bids=(99_990, 98_000))
    assert approve(q, 0.0, MARK, LIM, False, False, False) & R.RISK_PRICE_BAND
    assert side(q, "bid")[0] == [99_990]


def test_reducing_drops_the_side_that_grows_the_position():
    q = ladder()
    assert approve(q, 0.008, MARK, LIM, False, False, True) & R.RISK_REDUCING
    assert side(q, "bid") == ([], []) and side(q, "ask")[0]


@pytest.mark.parametrize("halted,paused,bit", [(True, False, R.RISK_HALTED), (False, True, R.RISK_PAUSED)])
def test_halted_or_paused_turns_the_ladder_into_a_pull(halted, paused, bit):
    q = ladder()
    assert approve(q, 0.0, MARK, LIM, halted, paused, False) == bit
    assert q["type"][0] == R.QUOTE_PULL and q["n_bids"][0] == q["n_asks"][0] == 0


def test_no_mark_means_no_quotes():
    q = ladder()
    assert approve(q, 0.0, float("nan"), LIM, False, False, False) == R.RISK_NO_MARK


def test_notional_limit_trims_in_usd():
    q = ladder(amount=0.004)
    lim = Limits(1.0, 500.0, 1.0, 100.0, 0.001, 0.001)   # 500 USD = 0.005 BTC at 100k
    assert approve(q, 0.0, MARK, lim, False, False, False) & R.RISK_TRIM_NOTIONAL
    assert sum(side(q, "bid")[1]) * MARK <= 500.0 + 1e-6
