"""Trading intensity: online maximum-likelihood fit of lambda(delta) = A exp(-k delta).

For a grid of depths delta_j (USD from the mid) we count, over a rolling window, how many market
orders reached at least mid + delta_j (buys) or mid - delta_j (sells), and for how many seconds
the mid was known (exposure tau; both sides, so 2 tau). Arrivals are counted, not volume: prints
of one sweep (same time, same side) count once, at their deepest price.

Each n_j is Poisson(A exp(-k delta_j) 2 tau). For fixed k the likelihood is maximal at
A(k) = N / (2 tau S(k)) with N = sum n_j and S(k) = sum exp(-k delta_j); the profile score in k is
    mean_k(delta) - D / N,   mean_k(delta) = sum delta_j e^{-k delta_j} / S(k),   D = sum n_j delta_j,
strictly decreasing in k (its derivative is minus a variance), so bisection finds the unique
root in [k_min, k_max]. Until ``min_arrivals`` arrivals are in the window the configured prior
(A, k) stands, and a later thin window keeps the last good fit: quoting never waits on a warm-up.

Time is input and may lie. An event a little older than the newest (within one bucket) is booked
in the current bucket with no exposure. A step back by more than a bucket is a clock
discontinuity: the window is forgotten (counts and exposure belong to the other clock), the
refit timer restarts and the last fit stands (``clock_resets`` counts them). A step forward past
the whole window forgets it too; a smaller one accrues exposure as usual.

Time we did not watch is not exposure: :meth:`forget_mid` makes the mid unknown, so nothing
accrues until the next valid mid (the quoter calls it where its view has a hole: while it was
down, or between the exchange's trade history and the first live record). History trades go in
with their own times (:meth:`on_mid` then :meth:`on_trade`), never as arrivals of the present.
:meth:`state` / :meth:`restore` save and resume everything that evolves.
"""
from libc.math cimport exp, fabs, floor, isfinite, log

import numpy as np

from kernels.estimator_state import check_intensity_state

cdef int BISECTIONS = 60


cdef class IntensityEstimator:
    """Rolling-window estimator of (A fills/s, k 1/USD); O(n_depths) per trade, O(1) per mid.

    ``depths``: increasing depths in USD (e.g. 0, 1, 2, ... ticks). The window is split into
    ``n_buckets`` time buckets that expire one at a time.
    """

    def __init__(self, depths, double window_s, double refit_interval_s, double prior_a,
                 double prior_k, double min_arrivals=50.0, int n_buckets=30,
                 double k_min=1e-6, double k_max=1e6):
        d = np.ascontiguousarray(depths, dtype=np.float64)
        if d.ndim != 1 or d.size < 2 or not np.all(np.diff(d) > 0) or d[0] < 0:
            raise ValueError(f"depths={list(d)}: expected >= 2 increasing depths >= 0 USD")
        if not window_s > 0 or not refit_interval_s > 0:
            raise ValueError(f"window_s={window_s}, refit_interval_s={refit_interval_s}: must be > 0 s")
        if not (prior_a > 0 and prior_k > 0):
            raise ValueError(f"prior A={prior_a}, k={prior_k}: must be > 0 (fills/s, 1/USD)")
        if n_buckets < 1 or not 0 < k_min < k_max:
            raise ValueError(f"n_buckets={n_buckets}, k_min={k_min}, k_max={k_max}: "
                             "expected n_buckets >= 1 and 0 < k_min < k_max")
        self.n_depths = d.size
        self.n_buckets = n_buckets
        self._depths = d
        self._counts = np.zeros((n_buckets, d.size))
        self._exposure = np.zeros(n_buckets)
        self.window_s = window_s
        self.bucket_s = window_s / n_buckets
        self.refit_interval_s = refit_interval_s
        self.min_arrivals = min_arrivals
        self.k_min, self.k_max = k_min, k_max
        self.prior_a, self.prior_k = prior_a, prior_k
        self.a, self.k = prior_a, prior_k
        self.fits = 0
        self.arrivals = 0
        self.clock_resets = 0
        self._mid = float("nan")
        self._last_t_s = float("nan")
        self._next_refit_s = float("-inf")
        self._bucket = 0
        self._sweep_t_s = float("nan")
        self._sweep_depth = 0.0
        self._sweep_side = 0

    @property
    def depths(self):
        return np.asarray(self._depths).copy()

    cdef void _advance(self, double t_s) noexcept:
        cdef long long target, b
        cdef double end
        cdef int j
        if not isfinite(self._last_t_s):
            self._last_t_s = t_s
            self._bucket = <long long>floor(t_s / self.bucket_s)
            return
        if t_s <= self._last_t_s:
            if t_s < self._last_t_s - self.bucket_s:
                self._reset_clock(t_s)
            return
        target = <long long>floor(t_s / self.bucket_s)
        if target - self._bucket > self.n_buckets:
            # A gap longer than the window: everything before it has expired.
            self._forget()
            self._bucket = target
            self._last_t_s = target * self.bucket_s
        while self._bucket < target:
            end = (self._bucket + 1) * self.bucket_s
            if isfinite(self._mid):
                self._exposure[self._slot(self._bucket)] += end - self._last_t_s
            self._last_t_s = end
            self._bucket += 1
            b = self._slot(self._bucket)
            self._exposure[b] = 0.0
            for j in range(self.n_depths):
                self._counts[b, j] = 0.0
        if isfinite(self._mid):
            self._exposure[self._slot(self._bucket)] += t_s - self._last_t_s
        self._last_t_s = t_s

    cdef long long _slot(self, long long bucket) noexcept:
        # The ring slot of an absolute bucket number; C's % keeps the sign, and a clock that
        # lies can put the bucket below zero.
        cdef long long b = bucket % self.n_buckets
        return b + self.n_buckets if b < 0 else b

    cdef void _forget(self) noexcept:
        self._counts[:, :] = 0.0
        self._exposure[:] = 0.0

    cdef void _reset_clock(self, double t_s) noexcept:
        # The clock went back: what the window holds was counted on another clock.
        self._forget()
        self._bucket = <long long>floor(t_s / self.bucket_s)
        self._last_t_s = t_s
        self._next_refit_s = float("-inf")
        self._sweep_t_s = float("nan")
        self.clock_resets += 1

    cpdef void on_mid(self, double mid, double t_s) noexcept:
        """The mid (USD) at t_s (s): exposure accrues only while a valid mid is known."""
        if not isfinite(t_s):
            return
        self._advance(t_s)
        if isfinite(mid) and mid > 0.0:
            self._mid = mid

    cpdef void forget_mid(self) noexcept:
        """The mid is unknown from here on: no exposure accrues until the next valid mid."""
        self._mid = float("nan")

    cpdef void on_trade(self, double price, int side, double t_s) noexcept:
        """A public trade at ``price`` (USD); side +1 buyer-initiated, -1 seller, 0 unknown."""
        cdef double depth, floor_depth
        cdef int j
        cdef long long b
        if not (isfinite(price) and price > 0.0 and isfinite(t_s)) or not isfinite(self._mid):
            return
        self._advance(t_s)
        depth = side * (price - self._mid) if side != 0 else fabs(price - self._mid)
        if t_s == self._sweep_t_s and side == self._sweep_side:
            if depth <= self._sweep_depth:
                return
            floor_depth = self._sweep_depth   # a deeper print of the same sweep: extend it only
            self._sweep_depth = depth
        else:
            self.arrivals += 1
            floor_depth = -1.0
            self._sweep_t_s, self._sweep_side, self._sweep_depth = t_s, side, depth
        b = self._slot(self._bucket)
        for j in range(self.n_depths):
            if self._depths[j] > depth:
                break
            if self._depths[j] > floor_depth:
                self._counts[b, j] += 1.0

    cpdef bint maybe_refit(self, double t_s) noexcept:
        """Refit if ``refit_interval_s`` has passed since the last attempt; True if (A, k) changed."""
        if not isfinite(t_s):
            return False
        self._advance(t_s)            # first: a clock reset restarts the refit timer
        if not t_s >= self._next_refit_s:
            return False
        self._next_refit_s = t_s + self.refit_interval_s
        return self.refit()

    cpdef bint refit(self) noexcept:
        """Fit now; keep the current (A, k) when the window holds fewer than min_arrivals."""
        cdef int i, j
        cdef double n_total = 0.0, d_total = 0.0, tau = 0.0, n0 = 0.0
        cdef double lo, hi, mid_k, s, target
        for i in range(self.n_buckets):
            tau += self._exposure[i]
            n0 += self._counts[i, 0]
            for j in range(self.n_depths):
                n_total += self._counts[i, j]
                d_total += self._counts[i, j] * self._depths[j]
        tau *= 2.0  # both sides were exposed
        if n0 < self.min_arrivals or tau <= 0.0 or n_total <= 0.0:
            return False
        target = d_total / n_total
        lo, hi = log(self.k_min), log(self.k_max)
        if self._tilted_mean(self.k_min) <= target:
            mid_k = self.k_min
        elif self._tilted_mean(self.k_max) >= target:
            mid_k = self.k_max
        else:
            for i in range(BISECTIONS):
                mid_k = exp(0.5 * (lo + hi))
                if self._tilted_mean(mid_k) > target:
                    lo = log(mid_k)
                else:
                    hi = log(mid_k)
            mid_k = exp(0.5 * (lo + hi))
        s = 0.0
        for j in range(self.n_depths):
            s += exp(-mid_k * self._depths[j])
        self.k = mid_k
        self.a = n_total / (tau * s)
        self.fits += 1
        return True

    cdef double _tilted_mean(self, double k) noexcept:
        # Mean depth under weights exp(-k delta); shifted by the first depth so nothing underflows.
        cdef double s = 0.0, sd = 0.0, w, d0 = self._depths[0]
        cdef int j
        for j in range(self.n_depths):
            w = exp(-k * (self._depths[j] - d0))
            s += w
            sd += w * self._depths[j]
        return sd / s

    # ---- persistence (not the hot path) ----------------------------------------------------
    def state(self) -> dict:
        """Everything that evolves, as plain numbers and lists (JSON-able; NaN where unknown)."""
        return {"depths": [float(x) for x in self._depths], "window_s": self.window_s,
                "counts": [[float(x) for x in row] for row in self._counts],
                "exposure": [float(x) for x in self._exposure], "bucket": self._bucket,
                "last_t_s": self._last_t_s, "mid": self._mid, "a": self.a, "k": self.k,
                "fits": self.fits, "arrivals": self.arrivals, "clock_resets": self.clock_resets,
                "sweep": [self._sweep_t_s, self._sweep_depth, self._sweep_side]}

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state`'s output (same depths and window); the refit is due at
        once. ValueError naming what is wrong, before anything changes."""
        c = check_intensity_state(state, [float(x) for x in self._depths], self.window_s, self.n_buckets,
                                  self.k_min, self.k_max)
        cdef int i, j
        for i in range(self.n_buckets):
            self._exposure[i] = c["exposure"][i]
            for j in range(self.n_depths):
                self._counts[i, j] = c["counts"][i][j]
        self._bucket, self._last_t_s, self._mid = c["bucket"], c["last_t_s"], c["mid"]
        self.a, self.k, self.fits, self.arrivals = c["a"], c["k"], c["fits"], c["arrivals"]
        self.clock_resets = c["clock_resets"]
        self._sweep_t_s, self._sweep_depth, self._sweep_side = c["sweep"]
        self._next_refit_s = float("-inf")
