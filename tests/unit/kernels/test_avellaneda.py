"""Avellaneda-Stoikov closed forms: known answers, limits, units, twin agreement."""
import math

from hypothesis import given, settings, strategies as st

from tests.unit.kernels.conftest import close


def test_reservation_price_matches_the_hand_computed_value(K):
    # s=100, q=3, gamma=0.1, sigma=2 -> sigma^2=4, tau=0.5: 100 - 3*0.1*4*0.5 = 99.4
    assert math.isclose(K.as_reservation_price(100.0, 3.0, 0.1, 2.0, 0.5), 99.4, rel_tol=1e-15)


def test_spread_matches_the_hand_computed_value(K):
    # gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k) = 0.1*4*0.5 + 20 ln(1 + 0.1/1.5)
    expected = 0.2 + 20.0 * math.log(1.0 + 0.1 / 1.5)
    assert math.isclose(K.as_spread(0.1, 2.0, 0.5, 1.5), expected, rel_tol=1e-14)
    assert math.isclose(expected, 1.49077042275, rel_tol=1e-10)  # 0.2 + 20 x 0.0645385211376


def test_sigma_in_the_wrong_unit_gives_a_spread_this_test_rejects(K):
    # sigma given per sqrt(day) instead of per sqrt(second) is 293.9x larger: the answer must move.
    per_second = K.as_spread(0.01, 5.0, 60.0, 0.1)
    per_day = K.as_spread(0.01, 5.0 * math.sqrt(86400.0), 60.0, 0.1)
    assert not math.isclose(per_second, per_day, rel_tol=0.01)
    # and using sigma where the paper has sigma^2 is caught by the hand-computed value
    assert not math.isclose(K.as_spread(0.1, math.sqrt(2.0), 0.5, 1.5), K.as_spread(0.1, 2.0, 0.5, 1.5))


def test_the_spread_does_not_depend_on_inventory_only_the_centre_does(K):
    b0, a0 = K.as_quotes(100.0, 0.0, 0.1, 2.0, 0.5, 1.5)
    b1, a1 = K.as_quotes(100.0, 5.0, 0.1, 2.0, 0.5, 1.5)
    assert math.isclose(a0 - b0, a1 - b1, rel_tol=1e-12)
    assert b1 < b0 and a1 < a0  # long inventory lowers both quotes


def test_gamma_near_zero_tends_to_the_risk_neutral_spread_two_over_k(K):
    assert K.as_spread(0.0, 2.0, 1.0, 1.5) == 2.0 / 1.5
    assert math.isclose(K.as_spread(1e-12, 2.0, 1.0, 1.5), 2.0 / 1.5, rel_tol=1e-9)


def test_k_near_zero_gives_a_finite_wide_spread_and_non_positive_k_gives_nan(K):
    assert 200.0 < K.as_spread(0.1, 2.0, 1.0, 1e-6) < math.inf  # 0.4 + 20 ln(1 + 1e5)
    assert math.isnan(K.as_spread(0.1, 2.0, 1.0, 0.0))
    assert math.isnan(K.as_spread(0.1, 2.0, 1.0, -1.0))


def test_zero_volatility_leaves_only_the_intensity_term(K):
    assert math.isclose(K.as_spread(0.1, 0.0, 10.0, 1.5), 20.0 * math.log1p(0.1 / 1.5), rel_tol=1e-14)
    assert K.as_reservation_price(100.0, 5.0, 0.1, 0.0, 10.0) == 100.0


def test_nan_volatility_propagates_so_the_engine_can_refuse_to_quote(K):
    assert math.isnan(K.as_spread(0.1, math.nan, 1.0, 1.5))


pos = st.floats(1e-6, 1e3)


@settings(max_examples=300, deadline=None)
@given(mid=st.floats(1.0, 1e6), q=st.floats(-100, 100), gamma=pos, sigma=st.floats(0, 1e3),
       tau=st.floats(0, 1e5), k=pos)
def test_compiled_and_twin_agree(C, P, mid, q, gamma, sigma, tau, k):
    assert close(C.as_reservation_price(mid, q, gamma, sigma, tau), P.as_reservation_price(mid, q, gamma, sigma, tau))
    assert close(C.as_spread(gamma, sigma, tau, k), P.as_spread(gamma, sigma, tau, k))
    for a, b in zip(C.as_quotes(mid, q, gamma, sigma, tau, k), P.as_quotes(mid, q, gamma, sigma, tau, k)):
        assert close(a, b)
