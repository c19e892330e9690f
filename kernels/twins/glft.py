"""Pure-Python twin of kernels/glft.pyx (units there)."""
import math


def glft_c1(xi, k, delta):
    if k <= 0.0:
        return math.nan
    x = xi * delta
    if x == 0.0:
        return 1.0 / k
    return math.log1p(x / k) / x


def glft_c2(gamma, xi, a, k, delta):
    if k <= 0.0 or a <= 0.0 or delta <= 0.0:
        return math.nan
    x = xi * delta
    power = math.e if x == 0.0 else math.exp((k / x + 1.0) * math.log1p(x / k))
    return math.sqrt(gamma / (2.0 * a * delta * k) * power)


def glft_half_spread(c1, c2, sigma, delta):
    return c1 + 0.5 * delta * sigma * c2


def glft_skew(c2, sigma):
    return sigma * c2


def glft_quotes(fair, q, sigma, c1, c2, delta):
    half = glft_half_spread(c1, c2, sigma, delta)
    skew = glft_skew(c2, sigma)
    return fair - (half + skew * q), fair + (half - skew * q)
