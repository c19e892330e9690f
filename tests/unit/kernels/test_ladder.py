"""The ladder: ticks, spacing, clamps, fee pad, sizes, position limit, post-only, tolerance."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

SPEC = dict(tick=1.0, amount_tick=0.001, min_amount=0.001, levels=5, spacing_ticks=2.0,
            min_spread=2.0, max_spread=1000.0, fee_pad=0.0, base_size=0.01,
            multipliers=(1, 2, 3, 4, 5), eta=0.0, max_position=1.0)


def ladder(K, bid0=99.6, ask0=100.4, q=0.0, open_bid=0.0, open_ask=0.0, best_bid=99.0,
           best_ask=101.0, **over):
    out = [np.zeros(10) for _ in range(4)]
    spec = {**SPEC, **over}
    nb, na = K.build_ladder(bid0, ask0, q, open_bid, open_ask, best_bid, best_ask, **spec,
                            bid_price=out[0], bid_amount=out[1], ask_price=out[2], ask_amount=out[3])
    return out[0][:nb], out[1][:nb], out[2][:na], out[3][:na]


def test_levels_are_spaced_snapped_and_sized_by_multipliers(K):
    bp, ba, ap, aa = ladder(K, bid0=95.3, ask0=104.7, best_bid=math.nan, best_ask=math.nan)
    assert list(bp) == [95, 93, 91, 89, 87]        # bids snap down
    assert list(ap) == [105, 107, 109, 111, 113]   # asks snap up
    assert np.allclose(ba, [0.01, 0.02, 0.03, 0.04, 0.05]) and np.allclose(aa, ba)


def test_never_crosses_the_opposite_best(K):
    bp, _, ap, _ = ladder(K, bid0=102.0, ask0=106.0, best_bid=101.0, best_ask=103.0)
    assert bp[0] <= 102.0 and bp[0] < 103.0
    assert ap[0] >= 104.0 and ap[0] > bp[0]
    bp, _, ap, _ = ladder(K, bid0=90.0, ask0=94.0, best_bid=95.0, best_ask=96.0)
    assert ap[0] >= 96.0 and all(b < 96.0 for b in bp)


def test_spread_is_clamped_and_the_fee_pad_widens_each_side(K):
    bp, _, ap, _ = ladder(K, bid0=100.0, ask0=100.0, min_spread=10.0, best_bid=math.nan, best_ask=math.nan)
    assert (bp[0], ap[0]) == (95.0, 105.0)
    bp, _, ap, _ = ladder(K, bid0=0.0 + 50, ask0=150.0, max_spread=20.0, best_bid=math.nan, best_ask=math.nan)
    assert (bp[0], ap[0]) == (90.0, 110.0)
    bp, _, ap, _ = ladder(K, bid0=95.0, ask0=105.0, fee_pad=3.0, best_bid=math.nan, best_ask=math.nan)
    assert (bp[0], ap[0]) == (92.0, 108.0)


def test_position_limit_counts_inventory_and_open_orders(K):
    _, ba, _, aa = ladder(K, q=0.9, open_bid=0.05, max_position=1.0)
    assert sum(ba) + 0.9 + 0.05 <= 1.0 + 1e-12 and abs(sum(ba) - 0.05) < 1e-12
    assert len(aa) == 5  # selling reduces the position: the ask side keeps every level


def test_inventory_at_the_limit_drops_the_side_that_would_grow_it(K):
    bp, _, ap, _ = ladder(K, q=1.0, max_position=1.0)
    assert len(bp) == 0 and len(ap) == 5
    bp, _, ap, _ = ladder(K, q=-1.0, max_position=1.0)
    assert len(ap) == 0 and len(bp) == 5


def test_eta_shrinks_the_side_that_would_grow_inventory(K):
    _, ba, _, aa = ladder(K, q=0.5, eta=2.0, max_position=10.0)
    assert ba[0] == pytest.approx(math.floor(0.01 * math.exp(-1.0) / 0.001) * 0.001)
    assert aa[0] == pytest.approx(0.01)


def test_a_level_within_tolerance_keeps_its_old_price(K):
    old_p, old_a = np.array([100.0, 99.0, 98.0]), np.array([1.0, 1.0, 1.0])
    new_p, new_a = np.array([101.0, 99.0, 96.0]), np.array([1.0, 1.0, 1.0])
    mask = K.keep_within_tolerance(1, old_p, old_a, 3, new_p, new_a, 3, 1.0, 1.0, 105.0)
    assert list(new_p) == [100.0, 99.0, 96.0] and mask == 0b100


def test_a_kept_price_that_would_cross_is_replaced(K):
    old_p, old_a = np.array([100.0]), np.array([1.0])
    new_p, new_a = np.array([99.0]), np.array([1.0])
    assert K.keep_within_tolerance(1, old_p, old_a, 1, new_p, new_a, 1, 1.0, 1.0, 100.0) == 1
    assert new_p[0] == 99.0


def test_vanished_levels_are_in_the_mask(K):
    old_p, old_a = np.array([100.0, 99.0]), np.array([1.0, 1.0])
    new_p, new_a = np.array([100.0, 0.0]), np.array([1.0, 0.0])
    assert K.keep_within_tolerance(1, old_p, old_a, 2, new_p, new_a, 1, 0.0, 1.0, math.nan) == 0b10


def test_bad_settings_are_refused(K):
    with pytest.raises(ValueError, match="levels=11"):
        ladder(K, levels=11)
    with pytest.raises(ValueError, match="tick=0"):
        ladder(K, tick=0.0)


finite = st.floats(-1e3, 1e3)


@settings(max_examples=400, deadline=None)
@given(centre=st.floats(50, 5e4), spread=st.floats(-5, 200), q=st.floats(-2, 2),
       open_bid=st.floats(0, 1), open_ask=st.floats(0, 1), bb_off=st.floats(-50, 50),
       ba_gap=st.floats(0.5, 100), eta=st.floats(0, 5), spacing=st.floats(0.5, 5),
       tick=st.sampled_from([0.1, 0.5, 1.0, 5.0]), levels=st.integers(1, 10))
def test_invariants_hold_and_twins_agree(C, P, centre, spread, q, open_bid, open_ask, bb_off,
                                         ba_gap, eta, spacing, tick, levels):
    best_bid = centre + bb_off
    best_ask = best_bid + ba_gap
    spec = dict(SPEC, tick=tick, levels=levels, spacing_ticks=spacing, eta=eta,
                multipliers=tuple(range(1, 11)), min_spread=tick, max_position=1.5)
    args = (centre - spread / 2, centre + spread / 2, q, open_bid, open_ask, best_bid, best_ask)
    res = {}
    for impl in (C, P):
        res[impl.kind] = ladder(impl, *args, **spec)
    for x, y in zip(res["cython"], res["python"]):
        assert np.allclose(x, y, rtol=1e-9, atol=1e-12)
    bp, ba, ap, aa = res["cython"]
    assert np.all(np.diff(bp) <= -tick * 0.5) and np.all(np.diff(ap) >= tick * 0.5)
    assert np.allclose(bp / tick, np.round(bp / tick)) and np.allclose(ap / tick, np.round(ap / tick))
    assert np.all(bp < best_ask) and np.all(ap > best_bid) and np.all(bp > 0)
    if len(bp) and len(ap):
        assert ap[0] > bp[0]
    assert q + open_bid + ba.sum() <= 1.5 + 1e-9 or len(ba) == 0
    assert -q + open_ask + aa.sum() <= 1.5 + 1e-9 or len(aa) == 0
    assert np.all(ba >= 0.001 - 1e-12) and np.all(aa >= 0.001 - 1e-12)


def test_fading_steps_the_growing_side_away_and_shrinks_it(K):
    calm = ladder(K, q=0.4, max_position=1.0, fade_start=0.5, fade_ticks=10.0)
    faded = ladder(K, q=0.75, max_position=1.0, fade_start=0.5, fade_ticks=10.0)
    assert calm[0][0] == 99.0                               # below fade_start: untouched
    assert faded[0][0] == 99.0 - 5.0                        # halfway into the band: 5 of 10 ticks
    assert faded[1][0] == pytest.approx(0.005)              # and half the size
    assert faded[2][0] == calm[2][0]                        # the reducing side is unchanged
