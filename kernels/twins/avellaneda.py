"""Pure-Python twin of kernels/avellaneda.pyx (units there)."""
import math


def as_reservation_price(mid, q, gamma, sigma, tau):
    return mid - q * gamma * sigma * sigma * tau


def as_spread(gamma, sigma, tau, k):
    if k <= 0.0:
        return math.nan
    if gamma == 0.0:
        return 2.0 / k
    return gamma * sigma * sigma * tau + 2.0 / gamma * math.log1p(gamma / k)


def as_quotes(mid, q, gamma, sigma, tau, k):
    r = as_reservation_price(mid, q, gamma, sigma, tau)
    half = 0.5 * as_spread(gamma, sigma, tau, k)
    return r - half, r + half
