"""Volatility: EWMA of the realised variance of the mid per second, robust to jumps.

Each accepted sample adds (delta s)^2 / delta t (USD^2/s) with weight 1 - lambda, where
lambda = 2^(-delta t / half_life_s): old information fades by half every half-life whatever the
sampling rate, so per-event and fixed-clock sampling agree. Use the mid, not trade prices: the
bid-ask bounce of trades inflates the estimate.

Jumps are not diffusion. A move whose normalised square z^2 = (delta s)^2 / (delta t sigma^2)
exceeds ``jump_sigmas``^2 (sigma: the current estimate, clamped) is a jump: it adds only
``jump_sigmas``^2 sigma^2 (winsorised) and ``jumps`` counts it. One 250 USD jump at sigma 5
USD/sqrt(s) and 0.1 s sampling would otherwise carry 250^2 / 0.1 x (1 - 2^(-0.1/30)) = 1440
USD^2/s into a variance of 25 (sigma 5 -> 38 for minutes after the market calmed); capped at
4 sigma it adds 3.5 % to the variance. The fast-cancel guard reacts to the move itself. The cap,
rather than dropping the sample, keeps the estimate able to follow a genuine rise: every sample
may still raise the variance by up to (jump_sigmas^2 - 1)(1 - lambda) of itself, so a tripled
volatility is reached within seconds at 10 samples/s. With ``jump_sigmas`` 4 the cap costs a
Brownian mid 0.01 % of its variance; 0 turns it off (every move counts in full).

Time is input and may lie. A sample whose time did not advance waits (its move is counted by
the next later sample). A step back in time, or forward by more than MAX_GAP_HALF_LIVES
half-lives, is a clock discontinuity, not a move: the sample becomes the new base point and the
variance is kept (one sample across a huge gap would carry almost all the weight and, divided by
a bogus dt, wipe the estimate out). ``clock_resets`` counts them.
"""
from libc.math cimport exp, isfinite, sqrt

from kernels.estimator_state import check_volatility_state

cdef double LN2 = 0.6931471805599453
MAX_GAP_HALF_LIVES = 4.0    # a longer gap would give one sample > 94 % of the weight
cdef double _MAX_GAP_HALF_LIVES = MAX_GAP_HALF_LIVES


cdef class EwmaVariance:
    """sigma in USD/sqrt(s) from mids in USD at times in seconds.

    ``initial_sigma`` (USD/sqrt(s)) is the prior used until data arrives, so quoting never waits
    for a warm-up. ``floor_sigma``/``ceiling_sigma`` clamp what :meth:`sigma` returns.
    ``jump_sigmas``: a move beyond this many sigma counts as a jump (capped there); 0 = off.
    """

    def __init__(self, double half_life_s, double initial_sigma, double floor_sigma=0.0,
                 double ceiling_sigma=float("inf"), double jump_sigmas=0.0):
        if not half_life_s > 0.0:
            raise ValueError(f"half_life_s={half_life_s}: must be > 0 seconds")
        if not initial_sigma >= 0.0:
            raise ValueError(f"initial_sigma={initial_sigma}: must be >= 0 USD/sqrt(s)")
        if not 0.0 <= floor_sigma <= ceiling_sigma:
            raise ValueError(f"floor_sigma={floor_sigma}, ceiling_sigma={ceiling_sigma}: "
                             "expected 0 <= floor <= ceiling")
        if not (jump_sigmas == 0.0 or 1.0 < jump_sigmas < float("inf")):
            raise ValueError(f"jump_sigmas={jump_sigmas}: expected 0 (off) or a finite number > 1 sigma")
        self.half_life_s = half_life_s
        self.floor_sigma = floor_sigma
        self.ceiling_sigma = ceiling_sigma
        self.jump_sigmas = jump_sigmas
        self.variance = initial_sigma * initial_sigma
        self.last_mid = float("nan")
        self.last_t_s = float("nan")
        self.samples = 0
        self.jumps = 0
        self.clock_resets = 0

    cpdef double update(self, double mid, double t_s) noexcept:
        """Take the mid (USD) at time t_s (s); return sigma (USD/sqrt(s)).

        A non-finite or non-positive mid is ignored; so is a sample whose time did not advance
        (its move is counted by the next sample with a later time). A step back in time or a gap
        beyond MAX_GAP_HALF_LIVES half-lives re-bases on this sample without updating.
        """
        cdef double dt, ds, lam, x, s, cap
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
        x = ds * ds / dt
        if self.jump_sigmas > 0.0:
            s = self.sigma()
            cap = self.jump_sigmas * self.jump_sigmas * s * s
            if cap > 0.0 and x > cap:     # no estimate yet (sigma 0): nothing to measure a jump by
                x = cap
                self.jumps += 1
        lam = exp(-LN2 * dt / self.half_life_s)
        self.variance = lam * self.variance + (1.0 - lam) * x
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

    cpdef void seed(self, double sigma) noexcept:
        """Start from ``sigma`` (USD/sqrt(s), e.g. measured on the exchange's history) instead of
        the prior; the next mid is a new base point. Ignored unless finite and >= 0."""
        if isfinite(sigma) and sigma >= 0.0:
            self.variance = sigma * sigma
            self.forget_mid()

    cpdef void forget_mid(self) noexcept:
        """The next mid is a new base point: a move across time nobody watched (the quoter was
        down) is one coarse sample with the weight of all that time; the variance is kept."""
        self.last_mid = float("nan")
        self.last_t_s = float("nan")

    def state(self) -> dict:
        """Everything that evolves, as plain numbers (JSON-able; NaN where nothing is known)."""
        return {"variance": self.variance, "last_mid": self.last_mid, "last_t_s": self.last_t_s,
                "samples": self.samples, "jumps": self.jumps, "clock_resets": self.clock_resets}

    def restore(self, state):
        """Continue from :meth:`state`'s output; ValueError naming a missing or bad field."""
        c = check_volatility_state(state)
        self.variance, self.last_mid, self.last_t_s = c["variance"], c["last_mid"], c["last_t_s"]
        self.samples, self.jumps, self.clock_resets = c["samples"], c["jumps"], c["clock_resets"]
