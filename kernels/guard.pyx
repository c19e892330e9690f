"""Fast cancel in volatile markets: when to pull the exposed side at once.

``update(mid, t_s, sigma)`` keeps the mids of the last ``window_s`` seconds (a fixed ring, no
allocation) and triggers when, within that window,
- the mid rose more than the threshold above its window low (our asks are exposed), or fell more
  than it below the window high (our bids are exposed); the threshold is ``max_move`` USD or
  ``sigma_multiple`` x sigma x sqrt(window_s), whichever is smaller (0 disables either);
- or sigma exceeds ``vol_jump`` x what it was at the start of the window: both sides (a jump,
  not a level: a market that stays volatile is quoted wider by the model, not pulled forever).
A trigger holds for ``settle_s`` seconds after the last triggering update; the caller pulls the
side(s) named by ``state`` and widens the rest until it returns to GUARD_CALM.

Time is input too, and it does not always move forward. A sample a little older than the newest
one (no more than ``window_s``) counts as simultaneous with it. A step back further than that is
a clock discontinuity (a bogus future stamp before it, or a clock reset): the window is forgotten,
and a pull in force settles ``settle_s`` after the new time, so neither a calm nor a pulled state
can freeze until the old clock is reached again (``clock_resets`` counts them). A step forward
of any size only ages the window out and lets a pull settle.
"""
from libc.math cimport isfinite, sqrt

import numpy as np

GUARD_STATES = {GUARD_CALM: "calm", GUARD_PULL_BIDS: "pull bids", GUARD_PULL_ASKS: "pull asks",
                GUARD_PULL_BOTH: "pull both"}


cdef class MoveGuard:
    def __init__(self, double window_s, double max_move, double sigma_multiple, double vol_jump,
                 double settle_s, int capacity=512):
        if not window_s > 0 or not settle_s >= 0 or capacity < 2:
            raise ValueError(f"window_s={window_s}, settle_s={settle_s}, capacity={capacity}: "
                             "expected window_s > 0, settle_s >= 0, capacity >= 2")
        if max_move < 0 or sigma_multiple < 0 or vol_jump < 0:
            raise ValueError(f"max_move={max_move}, sigma_multiple={sigma_multiple}, vol_jump={vol_jump}:"
                             " must be >= 0 (0 disables)")
        self.window_s, self.max_move, self.sigma_multiple = window_s, max_move, sigma_multiple
        self.vol_jump, self.settle_s = vol_jump, settle_s
        self._t = np.zeros(capacity)
        self._mid = np.zeros(capacity)
        self._sigma = np.zeros(capacity)
        self._capacity, self._head, self._count = capacity, 0, 0
        self.until_s = float("-inf")
        self.state = GUARD_CALM
        self.triggers = 0
        self.clock_resets = 0

    cpdef int update(self, double mid, double t_s, double sigma) noexcept:
        """Take the mid (USD) at t_s (s) and sigma (USD/sqrt(s)); returns the GUARD_* state."""
        cdef int i, idx, n, found = GUARD_CALM
        cdef double lo, hi, threshold, limit, base_sigma = sigma
        cdef double newest
        if not (isfinite(mid) and mid > 0 and isfinite(t_s)):
            return self.state
        if self._count:
            newest = self._t[(self._head - 1 + self._capacity) % self._capacity]
            if t_s < newest - self.window_s:
                self._reset_clock(t_s)
            elif t_s < newest:
                t_s = newest          # out of order by less than the window: simultaneous
        self._t[self._head], self._mid[self._head], self._sigma[self._head] = t_s, mid, sigma
        self._head = (self._head + 1) % self._capacity
        if self._count < self._capacity:
            self._count += 1
        lo = hi = mid
        n = self._count
        for i in range(1, n):
            idx = (self._head - 1 - i + 2 * self._capacity) % self._capacity
            if t_s - self._t[idx] > self.window_s:
                break
            if self._mid[idx] < lo:
                lo = self._mid[idx]
            if self._mid[idx] > hi:
                hi = self._mid[idx]
            base_sigma = self._sigma[idx]
        threshold = 0.0
        if self.max_move > 0:
            threshold = self.max_move
        if self.sigma_multiple > 0 and isfinite(sigma) and sigma > 0:
            limit = self.sigma_multiple * sigma * sqrt(self.window_s)
            if threshold == 0.0 or limit < threshold:
                threshold = limit
        if threshold > 0:
            if mid - lo > threshold:
                found = GUARD_PULL_ASKS
            elif hi - mid > threshold:
                found = GUARD_PULL_BIDS
        if self.vol_jump > 0 and base_sigma > 0 and sigma > self.vol_jump * base_sigma:
            found = GUARD_PULL_BOTH
        if found != GUARD_CALM:
            if self.state == GUARD_CALM or (found != self.state and self.state != GUARD_PULL_BOTH):
                self.triggers += 1
            self.state = found if self.state in (GUARD_CALM, found) else GUARD_PULL_BOTH
            self.until_s = t_s + self.settle_s
        elif self.state != GUARD_CALM and t_s >= self.until_s:
            self.state = GUARD_CALM
        return self.state

    cdef void _reset_clock(self, double t_s) noexcept:
        # The clock went back beyond the window: what the window held is on another clock.
        self._count = 0
        self.clock_resets += 1
        if self.state != GUARD_CALM:
            self.until_s = t_s + self.settle_s
