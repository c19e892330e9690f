"""Volatility: EWMA of the realised variance of the mid per second.

Each accepted sample adds (delta s)^2 / delta t (USD^2/s) with weight 1 - lambda, where
lambda = 2^(-delta t / half_life_s): old information fades by half every half-life whatever the
sampling rate, so per-event and fixed-clock sampling agree. Use the mid, not trade prices: the
bid-ask bounce of trades inflates the estimate.

Time is input and may lie. A sample whose time did not advance waits (its move is counted by
the next later sample). A step back in time, or forward by more than MAX_GAP_HALF_LIVES
half-lives, is a clock discontinuity, not a move: the sample becomes the new base point and the
variance is kept (one sample across a huge gap would carry almost all the weight and, divided by
a bogus dt, wipe the estimate out). ``clock_resets`` counts them.
"""
from libc.math cimport exp, isfinite, sqrt

cdef double LN2 = 0.6931471805599453
MAX_GAP_HALF_LIVES = 4.0    # a longer gap would give one sample > 94 % of the weight
cdef double _MAX_GAP_HALF_LIVES = MAX_GAP_HALF_LIVES


cdef class EwmaVariance:
    """sigma in USD/sqrt(s) from mids in USD at times in seconds.

    ``initial_sigma`` (USD/sqrt(s)) is the prior used until data arrives, so quoting never waits
    for a warm-up. ``floor_sigma``/``ceiling_sigma`` clamp what :meth:`sigma` returns.
    """

    def __init__(self, double half_life_s, double initial_sigma, double floor_sigma=0.0,
                 double ceiling_sigma=float("inf")):
        if not half_life_s > 0.0:
            raise ValueError(f"half_life_s={half_life_s}: must be > 0 seconds")
        if not initial_sigma >= 0.0:
            raise ValueError(f"initial_sigma={initial_sigma}: must be >= 0 USD/sqrt(s)")
        if not 0.0 <= floor_sigma <= ceiling_sigma:
            raise ValueError(f"floor_sigma={floor_sigma}, ceiling_sigma={ceiling_sigma}: "
                             "expected 0 <= floor <= ceiling")
        self.half_life_s = half_life_s
        self.floor_sigma = floor_sigma
        self.ceiling_sigma = ceiling_sigma
        self.variance = initial_sigma * initial_sigma
        self.last_mid = float("nan")
        self.last_t_s = float("nan")
        self.samples = 0
        self.clock_resets = 0

    cpdef double update(self, double mid, double t_s) noexcept:
        """Take the mid (USD) at time t_s (s); return sigma (USD/sqrt(s)).

        A non-finite or non-positive mid is ignored; so is a sample whose time did not advance
        (its move is counted by the next sample with a later time). A step back in time or a gap
        beyond MAX_GAP_HALF_LIVES half-lives re-bases on this sample without updating.
        """
        cdef double dt, ds, lam
        if not (isfinite(mid) and mid > 0.0 and isfinite(t_s)):
            return self.sigma()
        if not isfinite(self.last_mid):
            self.last_mid = mid
            self.last_t_s = t_s
            return self.sigma()
        dt = t_s - self.last_t_s
        if dt == 0.0:
            return self.sigma()
        if dt < 0.0 or dt > _MAX_GAP_HALF_LIVES * self.half_life_s:
            self.last_mid = mid
            self.last_t_s = t_s
            self.clock_resets += 1
            return self.sigma()
        ds = mid - self.last_mid
        lam = exp(-LN2 * dt / self.half_life_s)
        self.variance = lam * self.variance + (1.0 - lam) * (ds * ds / dt)
        self.last_mid = mid
        self.last_t_s = t_s
        self.samples += 1
        return self.sigma()

    cpdef double sigma(self) noexcept:
        """Current sigma in USD/sqrt(s), clamped to [floor_sigma, ceiling_sigma]."""
        cdef double s = sqrt(self.variance)
        if s < self.floor_sigma:
            return self.floor_sigma
        if s > self.ceiling_sigma:
            return self.ceiling_sigma
        return s
