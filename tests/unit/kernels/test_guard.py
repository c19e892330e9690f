"""Fast-cancel guard: triggers on a jump in the right direction, not on quiet data; settles."""
import math

import numpy as np
import pytest




def quiet_walk(guard, seconds=120, dt=0.05, sigma=2.0, seed=3, t0=0.0, mid=50_000.0):
    rng = np.random.default_rng(seed)
    states = []
    t = t0
    for _ in range(int(seconds / dt)):
        t += dt
        mid += rng.normal(0, sigma * math.sqrt(dt))
        states.append(guard.update(mid, t, sigma))
    return states, t, mid


def test_quiet_data_never_triggers(K):
    g = K.MoveGuard(1.0, 30.0, 6.0, 4.0, 3.0)
    states, _, _ = quiet_walk(g)
    assert set(states) == {0} and g.triggers == 0


def test_a_jump_up_pulls_the_asks_then_settles(K):
    g = K.MoveGuard(1.0, 30.0, 6.0, 0.0, 3.0)
    _, t, mid = quiet_walk(g, seconds=10)
    assert g.update(mid + 50.0, t + 0.05, 2.0) == 2          # asks are about to be lifted
    assert g.triggers == 1
    assert g.update(mid + 50.0, t + 2.0, 2.0) == 2            # still settling (3 s)
    assert g.update(mid + 50.0, t + 3.1, 2.0) == 0            # quiet for settle_s: calm again


def test_a_fall_pulls_the_bids(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    g.update(100_000.0, 0.0, 1.0)
    assert g.update(99_960.0, 0.5, 1.0) == 1


def test_a_slow_drift_of_the_same_size_does_not_trigger(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    for i in range(200):                                       # 50 USD over 20 s
        assert g.update(100_000.0 + i * 0.25, i * 0.1, 1.0) == 0


def test_a_volatility_jump_pulls_both_sides(K):
    g = K.MoveGuard(1.0, 0.0, 0.0, 4.0, 3.0)
    g.update(100_000.0, 0.0, 2.0)
    assert g.update(100_000.0, 0.5, 10.0) == 3


def test_the_sigma_threshold_scales_with_volatility(K):
    g = K.MoveGuard(1.0, 0.0, 6.0, 0.0, 3.0)
    g.update(100.0, 0.0, 1.0)
    assert g.update(105.0, 0.5, 1.0) == 0                      # 5 < 6 sigma sqrt(1 s)
    assert g.update(107.0, 0.6, 1.0) == 2                      # 7 > 6


def test_bad_settings_are_refused(K):
    with pytest.raises(ValueError, match="window_s=0"):
        K.MoveGuard(0.0, 1.0, 1.0, 1.0, 1.0)


def test_compiled_and_twin_agree(C, P):
    c, p = C.MoveGuard(0.5, 10.0, 5.0, 3.0, 1.0, capacity=64), P.MoveGuard(0.5, 10.0, 5.0, 3.0, 1.0, capacity=64)
    rng = np.random.default_rng(9)
    mid, t = 1000.0, 0.0
    for _ in range(3000):
        t += float(rng.exponential(0.02))
        mid += float(rng.normal(0, 1.0)) + (30.0 if rng.random() < 0.002 else 0.0)
        sigma = float(abs(rng.normal(2.0, 1.0)))
        assert c.update(mid, t, sigma) == p.update(mid, t, sigma)
    assert c.triggers == p.triggers > 0
