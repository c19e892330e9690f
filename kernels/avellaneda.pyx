"""Avellaneda-Stoikov (2008): reservation price and optimal total spread.

Units: ``mid`` USD, ``q`` contracts, ``gamma`` 1/(USD x contract), ``sigma`` USD/sqrt(s),
``tau`` seconds (T - t for a dated contract; the configured rolling horizon for a perpetual),
``k`` 1/USD. sigma enters squared: sigma^2 tau is a price variance in USD^2.
"""
from libc.math cimport NAN, log1p


cpdef double as_reservation_price(double mid, double q, double gamma, double sigma, double tau) noexcept nogil:
    """r = s - q gamma sigma^2 tau, in USD."""
    return mid - q * gamma * sigma * sigma * tau


cpdef double as_spread(double gamma, double sigma, double tau, double k) noexcept nogil:
    """Total optimal spread delta_a + delta_b = gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k), USD.

    gamma -> 0 gives 2/k (the risk-neutral limit); k <= 0 has no meaning and gives NaN.
    """
    if k <= 0.0:
        return NAN
    if gamma == 0.0:
        return 2.0 / k
    return gamma * sigma * sigma * tau + 2.0 / gamma * log1p(gamma / k)


cpdef tuple as_quotes(double mid, double q, double gamma, double sigma, double tau, double k):
    """(bid, ask) in USD: r -/+ spread/2. The spread does not depend on q; the centre does."""
    cdef double r = as_reservation_price(mid, q, gamma, sigma, tau)
    cdef double half = 0.5 * as_spread(gamma, sigma, tau, k)
    return r - half, r + half
