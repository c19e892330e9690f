"""Markouts: the move after each fill, per side and horizon, resolved as time passes."""
import math

import pytest

from tests.unit.kernels.conftest import close


def test_a_buy_followed_by_a_rise_has_a_positive_markout(K):
    m = K.Markout((1.0, 5.0))
    m.on_fill(1, 100.0, 0.0)
    assert m.on_mid(101.0, 0.5) == 0              # not due yet
    assert m.on_mid(102.0, 1.0) == 1              # the 1 s horizon resolves at 102
    assert m.average(1, 0) == pytest.approx(2.0)
    assert math.isnan(m.average(1, 1))            # 5 s not yet
    m.on_mid(97.0, 5.0)
    assert m.average(1, 1) == pytest.approx(-3.0)  # then the market fell through our buy


def test_a_sell_picked_off_by_a_rise_is_adverse(K):
    m = K.Markout((1.0,), alpha=1.0)
    m.on_fill(-1, 100.0, 0.0)
    m.on_mid(104.0, 2.0)
    assert m.average(-1, 0) == pytest.approx(-4.0)
    assert math.isnan(m.average(1, 0))


def test_averages_are_an_ewma_per_side(K):
    m = K.Markout((1.0,), alpha=0.5)
    for i, move in enumerate((2.0, -2.0, 4.0)):
        m.on_fill(1, 100.0, i * 10.0)
        m.on_mid(100.0 + move, i * 10.0 + 1.0)
    assert m.average(1, 0) == pytest.approx(((2.0 + 0.5 * (-4.0)) + 0.5 * (4.0 - 0.0)))
    assert m.counts(1) == [3]


def test_an_overflowing_ring_drops_the_oldest_and_counts_it(K):
    m = K.Markout((1.0,), capacity=4)
    for i in range(6):
        m.on_fill(1, 100.0, i * 0.01)
    assert m.dropped == 2
    assert m.on_mid(100.0, 10.0) == 4


def test_compiled_and_twin_agree(C, P):
    import numpy as np
    c, p = C.Markout(capacity=32), P.Markout(capacity=32)
    rng = np.random.default_rng(4)
    t, mid = 0.0, 100.0
    for _ in range(5000):
        t += float(rng.exponential(0.1))
        mid += float(rng.normal(0, 0.2))
        if rng.random() < 0.2:
            side = int(rng.choice([-1, 1]))
            c.on_fill(side, mid, t)
            p.on_fill(side, mid, t)
        assert c.on_mid(mid, t) == p.on_mid(mid, t)
    for side in (1, -1):
        for h in range(3):
            assert close(c.average(side, h), p.average(side, h))
