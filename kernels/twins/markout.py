"""Pure-Python twin of kernels/markout.pyx (definitions there)."""
import math


class Markout:
    def __init__(self, horizons=(1.0, 5.0, 30.0), alpha=0.05, capacity=4096):
        h = [float(x) for x in horizons]
        if not h or any(x <= 0 for x in h) or any(b <= a for a, b in zip(h, h[1:])):
            raise ValueError(f"horizons={h}: expected increasing positive seconds")
        if not 0 < alpha <= 1 or capacity < 2:
            raise ValueError(f"alpha={alpha}, capacity={capacity}: expected 0 < alpha <= 1, capacity >= 2")
        self.n_horizons, self.capacity, self.alpha = len(h), int(capacity), float(alpha)
        self._horizons = h
        self._fills = [(0.0, 0.0, 0)] * self.capacity
        self._next = 0
        self._resolved = [0] * len(h)
        self._avg = [[0.0] * len(h), [0.0] * len(h)]
        self._count = [[0] * len(h), [0] * len(h)]
        self.dropped = 0
        self.clock_resets = 0

    def on_fill(self, side, price, t_s):
        if side not in (1, -1) or not (math.isfinite(price) and price > 0 and math.isfinite(t_s)):
            return
        for j in range(self.n_horizons):
            if self._next - self._resolved[j] >= self.capacity:
                self._resolved[j] += 1
                self.dropped += 1
        self._fills[self._next % self.capacity] = (t_s, price, side)
        self._next += 1

    def on_mid(self, mid, t_s):
        if not (math.isfinite(mid) and mid > 0 and math.isfinite(t_s)):
            return 0
        n = 0
        longest = self._horizons[-1]
        for j, h in enumerate(self._horizons):
            while self._resolved[j] < self._next:
                slot = self._resolved[j] % self.capacity
                ft, fp, fs = self._fills[slot]
                if ft > t_s + longest:
                    ft = t_s
                    self._fills[slot] = (ft, fp, fs)
                    self.clock_resets += 1
                if ft + h > t_s:
                    break
                value = fs * (mid - fp)
                k = 0 if fs > 0 else 1
                if self._count[k][j] == 0:
                    self._avg[k][j] = value
                else:
                    self._avg[k][j] += self.alpha * (value - self._avg[k][j])
                self._count[k][j] += 1
                self._resolved[j] += 1
                n += 1
        return n

    def average(self, side, horizon_index):
        k = 0 if side > 0 else 1
        if not 0 <= horizon_index < self.n_horizons or self._count[k][horizon_index] == 0:
            return math.nan
        return self._avg[k][horizon_index]

    def counts(self, side):
        return list(self._count[0 if side > 0 else 1])

    @property
    def horizons(self):
        return list(self._horizons)
