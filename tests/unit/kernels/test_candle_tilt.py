"""The candle tilt changes the ladder only when the signals mean it: smoothed over candles and
applied past a deadband, it does not flip on noise (the paper run's kappa flipped x1 <-> x1/2
every few seconds, each flip moving the whole ladder), yet follows a real change of regime. Also:
smoothing 1 and deadband 0 give the newest candle's tilt; saving and resuming the state."""
import json
import math

import numpy as np
import pytest

from tests.unit.kernels.conftest import close

QUOTER = dict(max_multiplier=2.0, max_offset_frac=0.5, smoothing=0.25, deadband=0.15)   # QuoteParams' defaults
SEED_DESIGN = dict(max_multiplier=2.0, max_offset_frac=0.5, smoothing=1.0, deadband=0.0)


def random_walk_candles(c, n_candles, step_usd, seed, t=0.0, price=100_000.0):
    """Trades of a random walk (no trend, no regime) until ``n_candles`` closed; the applied tilt
    (gamma_mult, kappa_mult, offset_frac) after each close."""
    rng = np.random.default_rng(seed)
    tilts = []
    while len(tilts) < n_candles:
        t += rng.exponential(0.2)
        price += rng.normal(0.0, step_usd)
        if c.on_trade(price, float(rng.exponential(0.1)), int(rng.choice([-1, 1])), t):
            tilts.append((c.gamma_mult, c.kappa_mult, c.offset_frac))
    return np.array(tilts), t, price


def changes(tilts, column):
    return int(np.count_nonzero(np.diff(tilts[:, column])))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tilt_does_not_flip_on_noise(K, seed):
    tilts, _, _ = random_walk_candles(K.VolumeCandles(1.0, 60.0, 8, **QUOTER), 500, 2.0, seed)
    assert changes(tilts, 1) <= 0.05 * 500        # kappa: at most one close in 20
    assert changes(tilts, 0) <= 0.15 * 500 and changes(tilts, 2) <= 0.15 * 500
    # The newest candle alone (the seed's design, what the paper run did) on the same noise:
    raw, _, _ = random_walk_candles(K.VolumeCandles(1.0, 60.0, 8, **SEED_DESIGN), 500, 2.0, seed)
    assert changes(raw, 1) >= 0.5 * 500 and changes(raw, 2) >= 0.9 * 500


def test_a_real_rise_of_volatility_tilts_kappa_within_a_few_candles(K):
    c = K.VolumeCandles(1.0, 60.0, 8, **QUOTER)
    _, t, price = random_walk_candles(c, 200, 2.0, seed=4)
    before = c.kappa_mult
    tilts, _, _ = random_walk_candles(c, 6, 8.0, seed=5, t=t, price=price)   # four times the moves
    assert tilts[:, 1].min() < 0.85 * before


def reference_tilt(c):
    """The seed's adjustment from the newest candle's signals alone (weights: VolumeCandles' defaults)."""
    lo, hi = 1.0 / c.max_multiplier, c.max_multiplier
    g = min(max(1.0 + c.w_gamma_vol * c.volatility + c.w_gamma_exhaustion * c.exhaustion, lo), hi)
    k = min(max(1.0 - c.w_kappa_vol * c.volatility, lo), hi)
    o = min(max(c.w_offset_momentum * c.momentum * (1 - c.exhaustion) + c.w_offset_reversal * c.reversal,
                -c.max_offset_frac), c.max_offset_frac)
    return g, k, o


def test_smoothing_1_and_deadband_0_give_the_newest_candles_tilt(K):
    c = K.VolumeCandles(1.0, 60.0, 6, **SEED_DESIGN)
    rng = np.random.default_rng(8)
    price, t = 100.0, 0.0
    for _ in range(400):
        t += 0.5
        price *= math.exp(rng.normal(0, 0.003))
        if c.on_trade(price, 0.3, int(rng.choice([-1, 1])), t):
            g, k, o = reference_tilt(c)
            assert close(c.gamma_mult, g) and close(c.kappa_mult, k) and close(c.offset_frac, o)
            assert c.adjust(0.1, 2.0, 4.0) == pytest.approx((0.1 * g, 2.0 * k, 4.0 * o))


@pytest.mark.parametrize("kwargs,match", [({"smoothing": 0.0}, "smoothing=0.0"), ({"smoothing": 1.5}, "smoothing=1.5"),
                                          ({"deadband": -0.1}, "deadband=-0.1")])
def test_bad_tilt_settings_are_refused(K, kwargs, match):
    with pytest.raises(ValueError, match=match):
        K.VolumeCandles(1.0, 60.0, **kwargs)


def test_state_survives_json_and_the_restored_candles_continue_exactly(C, P):
    for make_a, make_b in ((C, C), (C, P), (P, C)):
        a = make_a.VolumeCandles(1.0, 30.0, 8, **QUOTER)
        _, t, price = random_walk_candles(a, 40, 2.0, seed=6)
        a.on_trade(price, 0.05, 1, t + 0.1)                      # an open candle is saved too
        b = make_b.VolumeCandles(1.0, 30.0, 8, **QUOTER)
        b.restore(json.loads(json.dumps(a.state())))
        ta, _, _ = random_walk_candles(a, 60, 3.0, seed=7, t=t + 0.2, price=price)
        tb, _, _ = random_walk_candles(b, 60, 3.0, seed=7, t=t + 0.2, price=price)
        assert np.allclose(ta, tb, rtol=1e-9) and a.n_closed == b.n_closed
        assert a.tilt_changes == b.tilt_changes


def test_a_state_of_other_candles_or_out_of_bounds_is_refused_and_nothing_changes(K):
    c = K.VolumeCandles(1.0, 30.0, 8, **QUOTER)
    random_walk_candles(c, 20, 2.0, seed=3)
    good = json.loads(json.dumps(c.state()))
    fresh = K.VolumeCandles(1.0, 30.0, 8, **QUOTER)
    for bad, match in (({**good, "lookback": 5}, "lookback=5"), ({**good, "tilt": [9.0, 1.0, 0.0]}, "tilt="),
                       ({**good, "closed": good["closed"][:-1]}, "closed holds"),
                       ({**good, "signals": [2.0, 0, 0, 0]}, "signals=")):
        with pytest.raises(ValueError, match=f"candles state: {match}"):
            fresh.restore(bad)
    assert fresh.n_closed == 0 and fresh.kappa_mult == 1.0


def test_twins_agree_on_the_tilt(C, P):
    rng = np.random.default_rng(12)
    for smoothing, deadband in ((0.25, 0.15), (0.6, 0.05), (1.0, 0.3)):
        c = C.VolumeCandles(1.0, 20.0, 5, smoothing=smoothing, deadband=deadband)
        p = P.VolumeCandles(1.0, 20.0, 5, smoothing=smoothing, deadband=deadband)
        price, t = 500.0, 0.0
        for _ in range(2000):
            t += float(rng.exponential(0.3))
            price *= math.exp(rng.normal(0, 0.002))
            amount, side = float(rng.exponential(0.2)), int(rng.choice([-1, 0, 1]))
            assert c.on_trade(price, amount, side, t) == p.on_trade(price, amount, side, t)
        assert all(close(x, y) for x, y in zip(c.adjust(0.1, 1.0, 3.0), p.adjust(0.1, 1.0, 3.0)))
        assert c.tilt_changes == p.tilt_changes
