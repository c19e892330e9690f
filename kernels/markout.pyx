"""Markouts: the mid's move after each of our fills, at fixed horizons (1, 5, 30 s by default).

For a fill of side s (+1 we bought, -1 we sold) at price p, the markout at horizon h is
s x (mid(t + h) - p) in USD per contract: positive means the market moved our way after the
fill, negative means we were picked off (adverse selection). Fills wait in a fixed ring; each
horizon keeps its own cursor and resolves fills in time order as mids arrive, so an update costs
O(1) amortised and allocates nothing. Per side and horizon an EWMA (weight ``alpha`` per fill)
is the figure the quoter widens on and the status shows. A ring overflow (more unresolved fills
than ``capacity``) drops the oldest and counts it.

Time is input and may lie. A pending fill stamped later than a mid's time by more than the
longest horizon is on another clock (a bogus future stamp, or the clock stepped back since): it
is restamped at that mid's time, so it resolves on the clock the mids keep instead of holding
every later fill back until the old clock comes round (``clock_resets`` counts them). Mids may
step forward by any amount: what is due resolves.
"""
from libc.math cimport NAN, isfinite

import numpy as np


cdef class Markout:
    def __init__(self, horizons=(1.0, 5.0, 30.0), double alpha=0.05, int capacity=4096):
        h = np.ascontiguousarray(horizons, dtype=np.float64)
        if h.ndim != 1 or h.size < 1 or np.any(h <= 0) or np.any(np.diff(h) <= 0):
            raise ValueError(f"horizons={list(h)}: expected increasing positive seconds")
        if not 0 < alpha <= 1 or capacity < 2:
            raise ValueError(f"alpha={alpha}, capacity={capacity}: expected 0 < alpha <= 1, capacity >= 2")
        self.n_horizons, self.capacity, self.alpha = h.size, capacity, alpha
        self._horizons = h
        self._fill_t = np.zeros(capacity)
        self._fill_price = np.zeros(capacity)
        self._fill_side = np.zeros(capacity, dtype=np.intc)
        self._next = 0
        self._resolved = np.zeros(h.size, dtype=np.int64)
        self._avg = np.zeros((2, h.size))
        self._count = np.zeros((2, h.size), dtype=np.int64)
        self.dropped = 0
        self.clock_resets = 0

    cpdef void on_fill(self, int side, double price, double t_s) noexcept:
        """One of our fills: side +1 bought / -1 sold, price USD, time s."""
        cdef int j
        cdef long long slot
        if side not in (1, -1) or not (isfinite(price) and price > 0 and isfinite(t_s)):
            return
        for j in range(self.n_horizons):   # the oldest is overwritten: it is never resolved
            if self._next - self._resolved[j] >= self.capacity:
                self._resolved[j] += 1
                self.dropped += 1
        slot = self._next % self.capacity
        self._fill_t[slot], self._fill_price[slot], self._fill_side[slot] = t_s, price, side
        self._next += 1

    cpdef int on_mid(self, double mid, double t_s) noexcept:
        """The mid (USD) at t_s: resolves every horizon now due; returns how many it resolved."""
        cdef int j, k, n = 0
        cdef long long slot
        cdef double value, longest = self._horizons[self.n_horizons - 1]
        if not (isfinite(mid) and mid > 0 and isfinite(t_s)):
            return 0
        for j in range(self.n_horizons):
            while self._resolved[j] < self._next:
                slot = self._resolved[j] % self.capacity
                if self._fill_t[slot] > t_s + longest:
                    self._fill_t[slot] = t_s
                    self.clock_resets += 1
                if self._fill_t[slot] + self._horizons[j] > t_s:
                    break
                value = self._fill_side[slot] * (mid - self._fill_price[slot])
                k = 0 if self._fill_side[slot] > 0 else 1
                if self._count[k, j] == 0:
                    self._avg[k, j] = value
                else:
                    self._avg[k, j] += self.alpha * (value - self._avg[k, j])
                self._count[k, j] += 1
                self._resolved[j] += 1
                n += 1
        return n

    cpdef double average(self, int side, int horizon_index) noexcept:
        """EWMA markout of our buys (side +1) or sells (-1) at a horizon, USD/contract; NaN if none."""
        cdef int k = 0 if side > 0 else 1
        if not 0 <= horizon_index < self.n_horizons or self._count[k, horizon_index] == 0:
            return NAN
        return self._avg[k, horizon_index]

    def counts(self, int side):
        return [int(c) for c in np.asarray(self._count[0 if side > 0 else 1])]

    @property
    def horizons(self):
        return list(np.asarray(self._horizons))
