"""The pre-trade kernel (the gateway's check of every ladder), compiled and twin: every denial is
a reason bit, no ladder ever takes the position past a limit, and both give the same record."""
import math
import random

import numpy as np
import pytest

from shm import records as R

# max_position, max_notional, max_order_size, price_band_bps, amount_tick, min_amount
LIMITS = (0.01, 1e9, 0.004, 100.0, 0.001, 0.001)
MARK = 100_000.0


def ladder(bids=(99_990, 99_980, 99_970), asks=(100_010, 100_020, 100_030), amount=0.003):
    q = np.zeros(1, R.QUOTE_DTYPE)
    q["type"], q["n_bids"], q["n_asks"] = R.QUOTE_SET, len(bids), len(asks)
    q["bid_price"][0][:len(bids)], q["ask_price"][0][:len(asks)] = bids, asks
    q["bid_amount"][0][:len(bids)], q["ask_amount"][0][:len(asks)] = amount, amount
    return q


def amounts(q, side):
    return [round(a, 9) for a in q[f"{side}_amount"][0][:int(q[f"n_{side}s"][0])]]


def test_a_ladder_within_every_limit_passes_untouched(K):
    q = ladder()
    before = q.copy()
    assert K.pretrade_approve(q, LIMITS, 0.0, 0.0, MARK) == 0
    assert q.tobytes() == before.tobytes()


def test_the_bid_side_is_checked_at_the_top_of_the_position_interval_and_the_ask_at_its_bottom(K):
    # Fills seen but not booked: the position is 0.002 or 0.004 (bid side) and -0.003 or 0.002
    # (ask side); each side gets the room of the worse end.
    q = ladder(amount=0.004)
    reason = K.pretrade_approve(q, LIMITS, 0.004, -0.003, MARK)
    assert reason & R.RISK_TRIM_POSITION
    assert sum(amounts(q, "bid")) == pytest.approx(0.006)    # 0.01 - 0.004
    assert sum(amounts(q, "ask")) == pytest.approx(0.007)    # 0.01 - 0.003 (short side)


def test_open_orders_count_against_max_position(K):
    q = ladder()
    K.pretrade_approve(q, LIMITS, 0.0, 0.0, MARK, open_bid=0.008, open_ask=0.0)
    assert sum(amounts(q, "bid")) == pytest.approx(0.002)
    assert sum(amounts(q, "ask")) == pytest.approx(0.009)


@pytest.mark.parametrize("block", [R.RISK_PAUSED, R.RISK_HALTED, R.RISK_HALTED | R.RISK_PAUSED])
def test_any_block_bit_turns_a_set_into_a_pull_carrying_it(K, block):
    q = ladder()
    assert K.pretrade_approve(q, LIMITS, 0.0, 0.0, MARK, block) == block
    assert q["type"][0] == R.QUOTE_PULL and q["n_bids"][0] == q["n_asks"][0] == 0
    assert q["reason"][0] & block == block


def test_a_pull_needs_no_mark_and_passes_as_a_pull(K):
    q = np.zeros(1, R.QUOTE_DTYPE)
    q["type"] = R.QUOTE_PULL
    assert K.pretrade_approve(q, LIMITS, 0.0, 0.0, float("nan")) == 0
    assert q["type"][0] == R.QUOTE_PULL


def test_no_mark_pulls_the_set(K):
    q = ladder()
    assert K.pretrade_approve(q, LIMITS, 0.0, 0.0, float("nan")) == R.RISK_NO_MARK
    assert q["type"][0] == R.QUOTE_PULL


def test_reducing_drops_the_side_that_grows_the_position(K):
    q = ladder()
    assert K.pretrade_approve(q, LIMITS, 0.005, 0.005, MARK, 0, True) & R.RISK_REDUCING
    assert amounts(q, "bid") == [] and amounts(q, "ask")


def test_levels_outside_the_price_band_are_dropped_with_those_beyond(K):
    q = ladder(bids=(99_990, 98_000, 99_980))
    assert K.pretrade_approve(q, LIMITS, 0.0, 0.0, MARK) & R.RISK_PRICE_BAND
    assert list(q["bid_price"][0][:int(q["n_bids"][0])]) == [99_990]


def random_case(rng):
    n_b, n_a = rng.randint(0, 10), rng.randint(0, 10)
    q = ladder(bids=[MARK - 5 - 10 * i - rng.choice((0, 0, 3000)) for i in range(n_b)],
               asks=[MARK + 5 + 10 * i for i in range(n_a)])
    q["bid_amount"][0][:n_b] = [rng.choice((0.001, 0.002, 0.003, 0.0057, 0.01)) for _ in range(n_b)]
    q["ask_amount"][0][:n_a] = [rng.choice((0.001, 0.002, 0.003, 0.0057, 0.01)) for _ in range(n_a)]
    lo = rng.uniform(-0.012, 0.012)
    hi = lo + rng.choice((0.0, 0.0, 0.003))
    limits = (0.01, rng.choice((1e9, 600.0)), 0.004, 100.0, 0.001, 0.001)
    return q, limits, hi, lo, rng.choice((0.0, 0.002, 0.011)), rng.choice((0.0, 0.004)), rng.random() < 0.2


def test_no_ladder_takes_the_position_past_max_position_or_max_notional(K):
    rng = random.Random(15)
    for _ in range(2000):
        q, limits, pos_bid, pos_ask, open_bid, open_ask, reducing = random_case(rng)
        K.pretrade_approve(q, limits, pos_bid, pos_ask, MARK, 0, reducing, open_bid, open_ask)
        bids, asks = sum(amounts(q, "bid")), sum(amounts(q, "ask"))
        max_pos = min(limits[0], limits[1] / MARK)
        assert bids == 0 or pos_bid + open_bid + bids <= max_pos + 1e-9
        assert asks == 0 or -pos_ask + open_ask + asks <= max_pos + 1e-9
        assert max(amounts(q, "bid") + amounts(q, "ask") + [0]) <= limits[2] + 1e-12


def random_caps(rng):
    """None, or per side a cap in contracts (0 = the side dropped) and its reason bit."""
    if rng.random() < 0.3:
        return None
    cap = lambda: rng.choice((0.0, 0.0025, 0.007, math.inf))    # noqa: E731
    bit = lambda: rng.choice((R.RISK_TRIM_NET_DELTA, R.RISK_TRIM_GROSS, R.RISK_REDUCING))  # noqa: E731
    return (cap(), bit(), cap(), bit())


def test_compiled_and_twin_give_the_same_record(C, P):
    rng = random.Random(7)
    for _ in range(2000):
        q, limits, pos_bid, pos_ask, open_bid, open_ask, reducing = random_case(rng)
        caps = random_caps(rng)
        q2 = q.copy()
        a = C.pretrade_approve(q, limits, pos_bid, pos_ask, MARK, 0, reducing, open_bid, open_ask, caps)
        b = P.pretrade_approve(q2, limits, pos_bid, pos_ask, MARK, 0, reducing, open_bid, open_ask, caps)
        assert a == b and q.tobytes() == q2.tobytes()


def test_a_side_cap_bounds_the_sides_sum_and_names_its_reason(K):
    q = ladder(amount=0.003)
    reason = K.pretrade_approve(q, LIMITS, 0.0, 0.0, MARK, caps=(0.005, R.RISK_TRIM_NET_DELTA, 0.0, R.RISK_REDUCING))
    assert reason & R.RISK_TRIM_NET_DELTA and reason & R.RISK_REDUCING
    assert sum(amounts(q, "bid")) == pytest.approx(0.005) and amounts(q, "ask") == []


def test_a_record_array_of_the_wrong_kind_is_refused_by_name(C):
    with pytest.raises(TypeError, match="QuoteSet"):
        C.pretrade_approve(np.zeros(1, R.MD_DTYPE), LIMITS, 0.0, 0.0, MARK)


def test_ladder_totals_sum_the_levels_of_a_set_and_nothing_of_a_pull(K):
    q = ladder(amount=0.003)
    q["bid_amount"][0][3] = 5.0            # beyond n_bids: not counted
    assert K.ladder_totals(q) == pytest.approx((0.009, 0.009))
    q["type"] = R.QUOTE_PULL
    assert K.ladder_totals(q) == (0.0, 0.0)
