"""Intensity A, k: the prior until data, convergence to a known truth, sweeps, window, twins."""
import math

import numpy as np
import pytest

from tests.unit.kernels.conftest import close

DEPTHS = np.arange(0, 40, 2.0)  # USD


def synthetic_flow(est, true_a, true_k, minutes, seed=11, dt=0.25):
    """Market orders arrive per side as Poisson(A); each reaches an Exp(k) depth beyond the mid,
    so the rate of arrivals reaching depth delta is exactly A exp(-k delta)."""
    rng = np.random.default_rng(seed)
    mid, t = 30_000.0, 1_000.0
    for _ in range(int(minutes * 60 / dt)):
        t += dt
        mid += rng.normal(0, 0.5)
        est.on_mid(mid, t)
        for side in (1, -1):
            for _ in range(rng.poisson(true_a * dt)):
                est.on_trade(mid + side * rng.exponential(1.0 / true_k), side, t + rng.uniform(0, dt * 0.9))
        est.maybe_refit(t)
    return t


def test_the_prior_stands_until_enough_arrivals(K):
    est = K.IntensityEstimator(DEPTHS, 600.0, 5.0, prior_a=2.0, prior_k=0.3, min_arrivals=1e9)
    synthetic_flow(est, 1.0, 0.1, minutes=2)
    assert (est.a, est.k, est.fits) == (2.0, 0.3, 0)


def test_converges_to_the_true_a_and_k(K):
    est = K.IntensityEstimator(DEPTHS, 1200.0, 5.0, prior_a=5.0, prior_k=1.0, min_arrivals=100)
    synthetic_flow(est, true_a=0.8, true_k=0.15, minutes=30)
    assert est.fits > 0
    assert est.k == pytest.approx(0.15, rel=0.15)
    assert est.a == pytest.approx(0.8, rel=0.2)


def test_prints_of_one_sweep_count_as_one_arrival_at_its_deepest_price(K):
    est = K.IntensityEstimator([0.0, 1.0, 2.0, 3.0], 60.0, 1.0, 1.0, 1.0, min_arrivals=1)
    est.on_mid(100.0, 0.0)
    for price in (100.5, 101.5, 102.5):      # one buy sweeping three levels at t = 1
        est.on_trade(price, 1, 1.0)
    est.on_trade(101.0, -1, 1.0)             # a sell at the same time is another arrival...
    assert est.arrivals == 2
    # ...reaching no depth on the sell side (it printed above the mid), while the sweep reached 2.5
    est.refit()
    # n = [1, 1, 1, 0]: the fitted curve must put most of its mass below depth 3
    assert est.k > 0.3


def test_a_gap_longer_than_the_window_forgets_old_counts_but_keeps_the_last_fit(K):
    est = K.IntensityEstimator(DEPTHS, 300.0, 5.0, prior_a=5.0, prior_k=1.0, min_arrivals=100)
    t = synthetic_flow(est, 0.8, 0.15, minutes=10)
    fitted = (est.a, est.k)
    est.on_mid(30_000.0, t + 10_000.0)
    assert est.refit() is False          # nothing left in the window
    assert (est.a, est.k) == fitted      # the last good fit stands


def test_trades_before_any_mid_and_bad_prices_are_ignored(K):
    est = K.IntensityEstimator(DEPTHS, 60.0, 1.0, 1.0, 1.0, min_arrivals=1)
    est.on_trade(100.0, 1, 0.0)
    est.on_mid(100.0, 1.0)
    for price in (math.nan, -1.0, 0.0, math.inf):
        est.on_trade(price, 1, 2.0)
    assert est.arrivals == 0


@pytest.mark.parametrize("kwargs,match", [({"depths": [1.0]}, "depths"), ({"depths": [2.0, 1.0]}, "depths"),
                                          ({"window_s": 0.0}, "window_s=0.0"),
                                          ({"prior_k": -1.0}, "k=-1.0")])
def test_bad_settings_are_refused(K, kwargs, match):
    args = {"depths": DEPTHS, "window_s": 60.0, "refit_interval_s": 5.0, "prior_a": 1.0,
            "prior_k": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        K.IntensityEstimator(**args)


def test_k_near_zero_is_bounded_by_k_min(K):
    # Every arrival reaches the deepest level: the likelihood wants k -> 0; k_min stops it.
    est = K.IntensityEstimator([0.0, 1.0, 2.0], 60.0, 1.0, 1.0, 1.0, min_arrivals=1, k_min=1e-4)
    est.on_mid(100.0, 0.0)
    for i in range(20):
        est.on_trade(150.0, 1, 1.0 + i)
    est.on_mid(100.0, 30.0)
    assert est.refit() and est.k == 1e-4 and math.isfinite(est.a)


def test_compiled_and_twin_agree_on_the_same_flow(C, P):
    c = C.IntensityEstimator(DEPTHS, 300.0, 5.0, 5.0, 1.0, min_arrivals=30, n_buckets=12)
    p = P.IntensityEstimator(DEPTHS, 300.0, 5.0, 5.0, 1.0, min_arrivals=30, n_buckets=12)
    synthetic_flow(c, 0.8, 0.2, minutes=8, seed=5)
    synthetic_flow(p, 0.8, 0.2, minutes=8, seed=5)
    assert c.fits == p.fits > 0 and c.arrivals == p.arrivals
    assert close(c.a, p.a) and close(c.k, p.k)


def test_state_survives_json_and_the_restored_estimator_fits_exactly_as_if_never_stopped(C, P):
    import json
    for make_a, make_b in ((C, C), (C, P), (P, C)):
        a = make_a.IntensityEstimator(DEPTHS, 600.0, 5.0, 1.0, 0.3, min_arrivals=30)
        t = synthetic_flow(a, 0.8, 0.15, minutes=5, seed=3)
        b = make_b.IntensityEstimator(DEPTHS, 600.0, 5.0, 1.0, 0.3, min_arrivals=30)
        b.restore(json.loads(json.dumps(a.state())))
        assert (b.a, b.k, b.arrivals) == (a.a, a.k, a.arrivals)
        for est in (a, b):
            est.on_mid(30_000.0, t + 1.0)
            est.on_trade(30_003.0, 1, t + 1.5)
            est.refit()
        assert close(a.a, b.a) and close(a.k, b.k) and a.fits >= 1


def test_a_state_for_other_depths_or_window_is_refused_naming_it(K):
    a = K.IntensityEstimator(DEPTHS, 600.0, 5.0, 1.0, 0.3)
    with pytest.raises(ValueError, match="intensity state: depths="):
        K.IntensityEstimator(DEPTHS[:-1], 600.0, 5.0, 1.0, 0.3).restore(a.state())
    with pytest.raises(ValueError, match="intensity state: window_s=600.0"):
        K.IntensityEstimator(DEPTHS, 300.0, 5.0, 1.0, 0.3).restore(a.state())
    with pytest.raises(ValueError, match="intensity state: k="):
        K.IntensityEstimator(DEPTHS, 600.0, 5.0, 1.0, 0.3).restore({**a.state(), "k": -1.0})


def test_time_without_a_known_mid_is_not_exposure(K):
    # The quoter forgets the mid where its view has a hole (it was down; or between the exchange's
    # history and its first live record): trades nobody saw must not read as a quiet market.
    watched = K.IntensityEstimator([0.0, 1.0], 600.0, 5.0, 1.0, 0.3, min_arrivals=1)
    holed = K.IntensityEstimator([0.0, 1.0], 600.0, 5.0, 1.0, 0.3, min_arrivals=1)
    for est in (watched, holed):
        est.on_mid(100.0, 0.0)
        for i in range(10):
            est.on_trade(101.5, 1, 1.0 + i)
        est.on_mid(100.0, 10.0)
    holed.forget_mid()
    for est in (watched, holed):
        est.on_mid(100.0, 110.0)        # 100 s later: the watched one saw them without a trade
        est.refit()
    # 10 arrivals counted at both depths over 10 s of exposure on each side
    assert holed.a == pytest.approx(20 / (2 * 10.0 * (1 + math.exp(-holed.k))), rel=1e-9)
    assert watched.a < holed.a / 5
