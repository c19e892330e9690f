"""Pure-Python twin of kernels/guard.pyx (the rules are described there)."""
import math

GUARD_CALM, GUARD_PULL_BIDS, GUARD_PULL_ASKS, GUARD_PULL_BOTH = 0, 1, 2, 3
GUARD_STATES = {GUARD_CALM: "calm", GUARD_PULL_BIDS: "pull bids", GUARD_PULL_ASKS: "pull asks",
                GUARD_PULL_BOTH: "pull both"}


class MoveGuard:
    def __init__(self, window_s, max_move, sigma_multiple, vol_jump, settle_s, capacity=512):
        if not window_s > 0 or not settle_s >= 0 or capacity < 2:
            raise ValueError(f"window_s={window_s}, settle_s={settle_s}, capacity={capacity}: "
                             "expected window_s > 0, settle_s >= 0, capacity >= 2")
        if max_move < 0 or sigma_multiple < 0 or vol_jump < 0:
            raise ValueError(f"max_move={max_move}, sigma_multiple={sigma_multiple}, vol_jump={vol_jump}:"
                             " must be >= 0 (0 disables)")
        self.window_s, self.max_move, self.sigma_multiple = window_s, max_move, sigma_multiple
        self.vol_jump, self.settle_s = vol_jump, settle_s
        self._t, self._mid, self._sigma = [0.0] * capacity, [0.0] * capacity, [0.0] * capacity
        self._capacity, self._head, self._count = capacity, 0, 0
        self.until_s = -math.inf
        self.state, self.triggers = GUARD_CALM, 0
        self.clock_resets = 0

    def update(self, mid, t_s, sigma):
        if not (math.isfinite(mid) and mid > 0 and math.isfinite(t_s)):
            return self.state
        cap = self._capacity
        if self._count:
            newest = self._t[(self._head - 1) % cap]
            if t_s < newest - self.window_s:
                self._reset_clock(t_s)
            elif t_s < newest:
                t_s = newest
        self._t[self._head], self._mid[self._head], self._sigma[self._head] = t_s, mid, sigma
        self._head = (self._head + 1) % cap
        self._count = min(self._count + 1, cap)
        lo = hi = mid
        base_sigma = sigma
        for i in range(1, self._count):
            idx = (self._head - 1 - i) % cap
            if t_s - self._t[idx] > self.window_s:
                break
            lo, hi = min(lo, self._mid[idx]), max(hi, self._mid[idx])
            base_sigma = self._sigma[idx]
        threshold = self.max_move if self.max_move > 0 else 0.0
        if self.sigma_multiple > 0 and math.isfinite(sigma) and sigma > 0:
            limit = self.sigma_multiple * sigma * math.sqrt(self.window_s)
            if threshold == 0.0 or limit < threshold:
                threshold = limit
        found = GUARD_CALM
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

    def _reset_clock(self, t_s):
        self._count = 0
        self.clock_resets += 1
        if self.state != GUARD_CALM:
            self.until_s = t_s + self.settle_s
