"""EWMA volatility: convergence to a known sigma, units, edge cases, twin agreement."""
import math

import numpy as np
import pytest

from tests.unit.kernels.conftest import close


def brownian_mids(sigma, dt, n, seed=7, s0=50_000.0):
    rng = np.random.default_rng(seed)
    return s0 + np.cumsum(rng.normal(0.0, sigma * math.sqrt(dt), n))


@pytest.mark.parametrize("dt", [0.1, 1.0])
def test_converges_to_the_true_sigma_per_second_within_five_percent(K, dt):
    true_sigma = 7.0  # USD / sqrt(s)
    est = K.EwmaVariance(600.0, 1.0)
    mids = brownian_mids(true_sigma, dt, int(3600 / dt))
    for i, mid in enumerate(mids):
        sigma = est.update(float(mid), i * dt)
    assert sigma == pytest.approx(true_sigma, rel=0.05)


def test_sampling_rate_does_not_change_the_unit(K):
    # The same path sampled every 0.1 s and every 1 s must give sigma per sqrt(second) both times;
    # an estimator that forgot to divide by dt would be off by sqrt(10) and fail here.
    fine = K.EwmaVariance(300.0, 1.0)
    coarse = K.EwmaVariance(300.0, 1.0)
    mids = brownian_mids(3.0, 0.1, 36000)
    for i, mid in enumerate(mids):
        fine.update(float(mid), i * 0.1)
        if i % 10 == 0:
            coarse.update(float(mid), i * 0.1)
    assert fine.sigma() == pytest.approx(coarse.sigma(), rel=0.1)
    assert fine.sigma() == pytest.approx(3.0, rel=0.05)


def test_a_shock_fades_by_half_after_one_half_life(K):
    est = K.EwmaVariance(10.0, 0.0)
    est.update(100.0, 0.0)
    est.update(110.0, 1.0)          # one jump: variance = (1 - 2^-0.1) * 100
    after_jump = est.variance
    est.update(110.0, 11.0)         # ten quiet seconds later
    assert est.variance == pytest.approx(after_jump * 0.5, rel=1e-12)


def test_prior_stands_until_the_first_move(K):
    est = K.EwmaVariance(30.0, 4.0)
    assert est.sigma() == 4.0
    assert est.update(100.0, 0.0) == 4.0


def test_nan_zero_and_negative_mids_and_stale_times_are_ignored(K):
    est = K.EwmaVariance(30.0, 2.0)
    est.update(100.0, 0.0)
    for bad_mid, t in [(math.nan, 1.0), (0.0, 2.0), (-5.0, 3.0), (math.inf, 4.0), (200.0, 0.0),
                       (100.0, math.nan)]:
        assert est.update(bad_mid, t) == 2.0
    assert est.samples == 0 and est.last_mid == 100.0


def test_floor_and_ceiling_clamp_what_is_reported(K):
    low = K.EwmaVariance(30.0, 0.01, floor_sigma=0.5, ceiling_sigma=10.0)
    assert low.sigma() == 0.5
    high = K.EwmaVariance(30.0, 50.0, floor_sigma=0.5, ceiling_sigma=10.0)
    assert high.sigma() == 10.0


@pytest.mark.parametrize("kwargs,match", [({"half_life_s": 0.0}, "half_life_s=0.0"),
                                          ({"initial_sigma": -1.0}, "initial_sigma=-1.0"),
                                          ({"floor_sigma": 5.0, "ceiling_sigma": 1.0}, "floor_sigma=5.0")])
def test_bad_settings_are_refused_with_the_name_and_value(K, kwargs, match):
    args = {"half_life_s": 10.0, "initial_sigma": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        K.EwmaVariance(**args)


def test_compiled_and_twin_agree_on_a_random_stream(C, P):
    rng = np.random.default_rng(3)
    c, p = C.EwmaVariance(20.0, 1.0, 0.1, 50.0), P.EwmaVariance(20.0, 1.0, 0.1, 50.0)
    t = 0.0
    for _ in range(5000):
        t += float(rng.choice([0.0, rng.exponential(0.2)]))
        mid = float(rng.choice([math.nan, 100.0 + rng.normal(0, 3)], p=[0.02, 0.98]))
        assert close(c.update(mid, t), p.update(mid, t))
    assert close(c.variance, p.variance) and c.samples == p.samples
