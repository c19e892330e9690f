"""GLFT / Gueant closed-form quotes for an infinite horizon (MODELS.md).

xi = gamma is the exponential-utility "model A" (with delta = 1 the 2013 GLFT formula); xi = 0
is the running-inventory-penalty "model B". Units: ``sigma`` USD/sqrt(s), ``a`` fills/s,
``k`` 1/USD, ``gamma``/``xi`` 1/(USD x contract), ``delta`` contracts per quote, ``q``
contracts (Gueant 2017: depth = c1 + (2q + delta)/2 sigma c2). c1 is in USD; c2 in
sqrt(s)/contract, so sigma c2 is USD per contract of inventory.
"""
from libc.math cimport NAN, exp, log1p, sqrt

cdef double E = 2.718281828459045


cpdef double glft_c1(double xi, double k, double delta) noexcept nogil:
    """c1 = ln(1 + xi delta / k) / (xi delta), USD; xi -> 0 gives 1/k."""
    cdef double x
    if k <= 0.0:
        return NAN
    x = xi * delta
    if x == 0.0:
        return 1.0 / k
    return log1p(x / k) / x


cpdef double glft_c2(double gamma, double xi, double a, double k, double delta) noexcept nogil:
    """c2 = sqrt(gamma / (2 A delta k) (1 + xi delta/k)^(k/(xi delta) + 1)); xi -> 0: e in place of the power."""
    cdef double x, power
    if k <= 0.0 or a <= 0.0 or delta <= 0.0:
        return NAN
    x = xi * delta
    if x == 0.0:
        power = E
    else:
        # (1 + x/k)^(k/x + 1) through log1p: exact as x/k -> 0, where it tends to e.
        power = exp((k / x + 1.0) * log1p(x / k))
    return sqrt(gamma / (2.0 * a * delta * k) * power)


cpdef double glft_half_spread(double c1, double c2, double sigma, double delta) noexcept nogil:
    """c1 + (delta/2) sigma c2, USD: the distance of each quote from fair at zero inventory."""
    return c1 + 0.5 * delta * sigma * c2


cpdef double glft_skew(double c2, double sigma) noexcept nogil:
    """sigma c2, USD per contract: how far both quotes move per contract held."""
    return sigma * c2


cpdef tuple glft_quotes(double fair, double q, double sigma, double c1, double c2, double delta):
    """(bid, ask) in USD: fair - (half_spread + skew q), fair + (half_spread - skew q)."""
    cdef double half = glft_half_spread(c1, c2, sigma, delta)
    cdef double skew = glft_skew(c2, sigma)
    return fair - (half + skew * q), fair + (half - skew * q)
