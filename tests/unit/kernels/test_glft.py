"""GLFT closed form: known answers, the xi -> 0 limit, and agreement with the exact ODE solution."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from testkit.glft_exact import glft_exact_depths
from tests.unit.kernels.conftest import close


def test_c1_and_c2_match_hand_computed_values(K):
    # gamma = xi = 0.5, delta = 1, k = 1, A = 2: c1 = ln(1.5)/0.5; c2 = sqrt(0.5/4 * 1.5^3)
    assert math.isclose(K.glft_c1(0.5, 1.0, 1.0), math.log(1.5) / 0.5, rel_tol=1e-14)
    assert math.isclose(K.glft_c2(0.5, 0.5, 2.0, 1.0, 1.0), math.sqrt(0.125 * 1.5 ** 3), rel_tol=1e-14)


def test_xi_zero_is_the_limit_of_small_xi(K):
    assert K.glft_c1(0.0, 0.3, 1.0) == pytest.approx(1 / 0.3)
    assert K.glft_c1(1e-9, 0.3, 1.0) == pytest.approx(1 / 0.3, rel=1e-8)
    c2_zero = K.glft_c2(0.01, 0.0, 1.5, 0.3, 1.0)
    assert c2_zero == pytest.approx(math.sqrt(0.01 * math.e / (2 * 1.5 * 0.3)), rel=1e-14)
    assert K.glft_c2(0.01, 1e-10, 1.5, 0.3, 1.0) == pytest.approx(c2_zero, rel=1e-8)


def test_quotes_skew_against_inventory_and_keep_the_spread(K):
    c1, c2 = K.glft_c1(0.01, 0.5, 1.0), K.glft_c2(0.01, 0.01, 10.0, 0.5, 1.0)
    b0, a0 = K.glft_quotes(100.0, 0.0, 2.0, c1, c2, 1.0)
    b1, a1 = K.glft_quotes(100.0, 2.0, 2.0, c1, c2, 1.0)
    assert math.isclose(a0 - b0, a1 - b1, rel_tol=1e-12)
    assert math.isclose(b0 - b1, 2.0 * K.glft_skew(c2, 2.0), rel_tol=1e-12)
    assert math.isclose(a0 - 100.0, K.glft_half_spread(c1, c2, 2.0, 1.0), rel_tol=1e-12)


@pytest.mark.parametrize("gamma,sigma,a,k", [(0.01, 2.0, 140.0, 1.5), (0.05, 0.3, 0.9, 0.3),
                                              (0.001, 1.0, 10.0, 0.5)])
def test_closed_form_matches_the_exact_ode_at_small_inventory_far_from_expiry(K, gamma, sigma, a, k):
    bid_exact, ask_exact = glft_exact_depths(gamma, sigma, a, k, q_max=30, tau=36000.0)
    c1, c2 = K.glft_c1(gamma, k, 1.0), K.glft_c2(gamma, gamma, a, k, 1.0)
    half, skew = K.glft_half_spread(c1, c2, sigma, 1.0), K.glft_skew(c2, sigma)
    for q in range(-3, 4):
        assert half + skew * q == pytest.approx(bid_exact[q + 30], rel=5e-3)
        assert half - skew * q == pytest.approx(ask_exact[q + 30], rel=5e-3)


def test_exact_solution_near_expiry_tends_to_the_myopic_depth():
    # At T the value is flat, so both depths are (1/gamma) ln(1 + gamma/k) whatever q.
    bid, ask = glft_exact_depths(0.05, 0.3, 0.9, 0.3, q_max=5, tau=0.0)
    myopic = math.log1p(0.05 / 0.3) / 0.05
    assert np.allclose(bid[:-1], myopic) and np.allclose(ask[1:], myopic)
    assert math.isnan(bid[-1]) and math.isnan(ask[0])  # no quote that breaks |q| <= Q


def test_exact_solution_rejects_meaningless_inputs():
    with pytest.raises(ValueError, match="sigma=-1"):
        glft_exact_depths(0.1, -1.0, 1.0, 1.0, 3, 10.0)


def test_non_positive_k_or_a_gives_nan(K):
    assert math.isnan(K.glft_c1(0.1, 0.0, 1.0))
    assert math.isnan(K.glft_c2(0.1, 0.1, 0.0, 1.0, 1.0))


pos = st.floats(1e-6, 1e2)


@settings(max_examples=300, deadline=None)
@given(gamma=pos, xi_is_gamma=st.booleans(), a=pos, k=pos, delta=st.floats(1e-3, 10),
       sigma=st.floats(0, 100), q=st.floats(-50, 50), fair=st.floats(1, 1e6))
def test_compiled_and_twin_agree(C, P, gamma, xi_is_gamma, a, k, delta, sigma, q, fair):
    xi = gamma if xi_is_gamma else 0.0
    c1, c2 = C.glft_c1(xi, k, delta), C.glft_c2(gamma, xi, a, k, delta)
    assert close(c1, P.glft_c1(xi, k, delta))
    assert close(c2, P.glft_c2(gamma, xi, a, k, delta))
    assert close(C.glft_half_spread(c1, c2, sigma, delta), P.glft_half_spread(c1, c2, sigma, delta))
    for x, y in zip(C.glft_quotes(fair, q, sigma, c1, c2, delta), P.glft_quotes(fair, q, sigma, c1, c2, delta)):
        assert close(x, y, rel=1e-9, abs_=1e-9)
