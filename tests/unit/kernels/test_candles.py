"""Volume candles: closing rules, bounded signals, bounded non-compounding adjustment, twins."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.unit.kernels.conftest import close


def test_a_candle_closes_when_its_volume_reaches_the_threshold(K):
    c = K.VolumeCandles(1.0, 60.0)
    assert not c.on_trade(100.0, 0.4, 1, 0.0)
    assert not c.on_trade(100.0, 0.4, 1, 1.0)
    assert c.on_trade(100.0, 0.2, 1, 2.0)
    assert c.n_closed == 1


def test_a_candle_closes_when_its_time_is_up_even_without_volume(K):
    c = K.VolumeCandles(10.0, 5.0)
    c.on_trade(100.0, 1.0, 1, 0.0)
    assert not c.on_time(4.9)
    assert c.on_time(5.0) and c.n_closed == 1
    assert not c.on_time(100.0)  # an empty candle never closes


def test_a_steady_uptrend_gives_strong_positive_momentum_and_no_reversal(K):
    c = K.VolumeCandles(1.0, 60.0, lookback=6)
    price = 100.0
    for i in range(6):
        c.on_trade(price, 0.5, 1, i)
        price *= 1.002
        c.on_trade(price, 0.5, 1, i + 0.5)
    assert c.momentum > 0.9 and c.reversal == 0.0


def test_a_down_candle_after_an_uptrend_is_a_negative_reversal(K):
    c = K.VolumeCandles(1.0, 60.0, lookback=6)
    price = 100.0
    for i in range(5):
        c.on_trade(price, 0.5, 1, i)
        price *= 1.002
        c.on_trade(price, 0.5, 1, i + 0.5)
    c.on_trade(price, 0.5, -1, 10.0)
    c.on_trade(price * 0.997, 0.5, -1, 10.5)
    assert c.reversal < -0.5


def test_fading_buy_pressure_in_an_uptrend_is_exhaustion(K):
    c = K.VolumeCandles(1.0, 60.0, lookback=6)
    price = 100.0
    for i in range(6):
        buy_share = 1.0 if i < 5 else 0.5
        c.on_trade(price, buy_share, 1, i)
        price *= 1.002
        c.on_trade(price, 1.0 - buy_share + 1e-9, -1, i + 0.5) if buy_share < 1 else c.on_trade(price, 1e-9, 1, i + 0.5)
    assert c.momentum > 0.5 and c.exhaustion > 0.3


def test_adjustment_is_bounded_and_does_not_compound(K):
    c = K.VolumeCandles(1.0, 60.0, lookback=4, max_multiplier=2.0, max_offset_frac=0.5,
                        w_gamma_vol=100.0, w_kappa_vol=100.0, w_offset_momentum=100.0)
    rng = np.random.default_rng(1)
    for i in range(200):
        c.on_trade(100.0 * math.exp(rng.normal(0, 0.01)), 0.3, int(rng.choice([-1, 1])), i)
        g, k, off = c.adjust(0.1, 2.0, 5.0)
        assert 0.05 - 1e-12 <= g <= 0.2 + 1e-12 and 1.0 - 1e-12 <= k <= 4.0 + 1e-12
        assert abs(off) <= 2.5 + 1e-12
        assert c.adjust(0.1, 2.0, 5.0) == (g, k, off)  # recomputed from the base: same answer


def test_bad_trades_are_ignored(K):
    c = K.VolumeCandles(1.0, 60.0)
    for price, amount in [(math.nan, 1.0), (-1.0, 1.0), (100.0, 0.0), (100.0, math.nan)]:
        assert not c.on_trade(price, amount, 1, 0.0)
    assert c.n_closed == 0


def test_bad_settings_are_refused(K):
    with pytest.raises(ValueError, match="volume_threshold=0"):
        K.VolumeCandles(0.0, 60.0)
    with pytest.raises(ValueError, match="lookback=1"):
        K.VolumeCandles(1.0, 60.0, lookback=1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), lookback=st.integers(2, 12))
def test_signals_stay_in_bounds_and_twins_agree(C, P, seed, lookback):
    rng = np.random.default_rng(seed)
    c, p = C.VolumeCandles(2.0, 30.0, lookback), P.VolumeCandles(2.0, 30.0, lookback)
    price, t = 1000.0, 0.0
    for _ in range(300):
        t += float(rng.exponential(1.0))
        price *= math.exp(rng.normal(0, 0.002))
        amount, side = float(rng.exponential(0.5)), int(rng.choice([-1, 0, 1]))
        assert c.on_trade(price, amount, side, t) == p.on_trade(price, amount, side, t)
        assert -1 < c.momentum < 1 and -1 <= c.reversal <= 1
        assert 0 <= c.volatility <= 1 and 0 <= c.exhaustion <= 1
    for name in ("momentum", "reversal", "volatility", "exhaustion"):
        assert close(getattr(c, name), getattr(p, name)), name
    for x, y in zip(c.adjust(0.1, 1.0, 3.0), p.adjust(0.1, 1.0, 3.0)):
        assert close(x, y)
