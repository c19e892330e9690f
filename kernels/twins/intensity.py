"""Pure-Python twin of kernels/intensity.pyx (the method is described there)."""
import math

import numpy as np

from kernels.estimator_state import check_intensity_state

BISECTIONS = 60


class IntensityEstimator:
    def __init__(self, depths, window_s, refit_interval_s, prior_a, prior_k, min_arrivals=50.0,
                 n_buckets=30, k_min=1e-6, k_max=1e6):
        d = [float(x) for x in np.asarray(depths, dtype=np.float64).ravel()]
        if len(d) < 2 or any(b <= a for a, b in zip(d, d[1:])) or d[0] < 0:
            raise ValueError(f"depths={d}: expected >= 2 increasing depths >= 0 USD")
        if not window_s > 0 or not refit_interval_s > 0:
            raise ValueError(f"window_s={window_s}, refit_interval_s={refit_interval_s}: must be > 0 s")
        if not (prior_a > 0 and prior_k > 0):
            raise ValueError(f"prior A={prior_a}, k={prior_k}: must be > 0 (fills/s, 1/USD)")
        if n_buckets < 1 or not 0 < k_min < k_max:
            raise ValueError(f"n_buckets={n_buckets}, k_min={k_min}, k_max={k_max}: "
                             "expected n_buckets >= 1 and 0 < k_min < k_max")
        self.n_depths, self.n_buckets = len(d), int(n_buckets)
        self._depths = d
        self._counts = [[0.0] * len(d) for _ in range(self.n_buckets)]
        self._exposure = [0.0] * self.n_buckets
        self.window_s = float(window_s)
        self.bucket_s = self.window_s / self.n_buckets
        self.refit_interval_s = float(refit_interval_s)
        self.min_arrivals = float(min_arrivals)
        self.k_min, self.k_max = float(k_min), float(k_max)
        self.prior_a, self.prior_k = float(prior_a), float(prior_k)
        self.a, self.k = self.prior_a, self.prior_k
        self.fits = self.arrivals = 0
        self.clock_resets = 0
        self._mid = self._last_t_s = self._sweep_t_s = math.nan
        self._next_refit_s = -math.inf
        self._bucket = 0
        self._sweep_depth = 0.0
        self._sweep_side = 0

    @property
    def depths(self):
        return np.array(self._depths)

    def _advance(self, t_s):
        if not math.isfinite(self._last_t_s):
            self._last_t_s = t_s
            self._bucket = math.floor(t_s / self.bucket_s)
            return
        if t_s <= self._last_t_s:
            if t_s < self._last_t_s - self.bucket_s:
                self._reset_clock(t_s)
            return
        target = math.floor(t_s / self.bucket_s)
        if target - self._bucket > self.n_buckets:
            self._forget()
            self._bucket = target
            self._last_t_s = target * self.bucket_s
        while self._bucket < target:
            end = (self._bucket + 1) * self.bucket_s
            if math.isfinite(self._mid):
                self._exposure[self._bucket % self.n_buckets] += end - self._last_t_s
            self._last_t_s = end
            self._bucket += 1
            b = self._bucket % self.n_buckets
            self._exposure[b] = 0.0
            self._counts[b] = [0.0] * self.n_depths
        if math.isfinite(self._mid):
            self._exposure[self._bucket % self.n_buckets] += t_s - self._last_t_s
        self._last_t_s = t_s

    def _forget(self):
        self._counts = [[0.0] * self.n_depths for _ in range(self.n_buckets)]
        self._exposure = [0.0] * self.n_buckets

    def _reset_clock(self, t_s):
        self._forget()
        self._bucket = math.floor(t_s / self.bucket_s)
        self._last_t_s = t_s
        self._next_refit_s = -math.inf
        self._sweep_t_s = math.nan
        self.clock_resets += 1

    def on_mid(self, mid, t_s):
        if not math.isfinite(t_s):
            return
        self._advance(t_s)
        if math.isfinite(mid) and mid > 0.0:
            self._mid = mid

    def forget_mid(self):
        self._mid = math.nan

    def on_trade(self, price, side, t_s):
        if not (math.isfinite(price) and price > 0.0 and math.isfinite(t_s)) or not math.isfinite(self._mid):
            return
        self._advance(t_s)
        depth = side * (price - self._mid) if side != 0 else abs(price - self._mid)
        if t_s == self._sweep_t_s and side == self._sweep_side:
            if depth <= self._sweep_depth:
                return
            floor_depth = self._sweep_depth
            self._sweep_depth = depth
        else:
            self.arrivals += 1
            floor_depth = -1.0
            self._sweep_t_s, self._sweep_side, self._sweep_depth = t_s, side, depth
        row = self._counts[self._bucket % self.n_buckets]
        for j, dj in enumerate(self._depths):
            if dj > depth:
                break
            if dj > floor_depth:
                row[j] += 1.0

    def maybe_refit(self, t_s):
        if not math.isfinite(t_s):
            return False
        self._advance(t_s)
        if not t_s >= self._next_refit_s:
            return False
        self._next_refit_s = t_s + self.refit_interval_s
        return self.refit()

    def refit(self):
        tau = 2.0 * sum(self._exposure)
        n0 = sum(row[0] for row in self._counts)
        n_total = sum(sum(row) for row in self._counts)
        d_total = sum(c * d for row in self._counts for c, d in zip(row, self._depths))
        if n0 < self.min_arrivals or tau <= 0.0 or n_total <= 0.0:
            return False
        target = d_total / n_total
        if self._tilted_mean(self.k_min) <= target:
            k = self.k_min
        elif self._tilted_mean(self.k_max) >= target:
            k = self.k_max
        else:
            lo, hi = math.log(self.k_min), math.log(self.k_max)
            for _ in range(BISECTIONS):
                k = math.exp(0.5 * (lo + hi))
                if self._tilted_mean(k) > target:
                    lo = math.log(k)
                else:
                    hi = math.log(k)
            k = math.exp(0.5 * (lo + hi))
        s = sum(math.exp(-k * d) for d in self._depths)
        self.k, self.a = k, n_total / (tau * s)
        self.fits += 1
        return True

    def _tilted_mean(self, k):
        d0 = self._depths[0]
        w = [math.exp(-k * (d - d0)) for d in self._depths]
        return sum(wi * d for wi, d in zip(w, self._depths)) / sum(w)

    def state(self):
        return {"depths": list(self._depths), "window_s": self.window_s,
                "counts": [list(row) for row in self._counts], "exposure": list(self._exposure),
                "bucket": self._bucket, "last_t_s": self._last_t_s, "mid": self._mid, "a": self.a,
                "k": self.k, "fits": self.fits, "arrivals": self.arrivals, "clock_resets": self.clock_resets,
                "sweep": [self._sweep_t_s, self._sweep_depth, self._sweep_side]}

    def restore(self, state):
        c = check_intensity_state(state, self._depths, self.window_s, self.n_buckets, self.k_min, self.k_max)
        self._counts = [list(row) for row in c["counts"]]
        self._exposure = list(c["exposure"])
        self._bucket, self._last_t_s, self._mid = c["bucket"], c["last_t_s"], c["mid"]
        self.a, self.k, self.fits, self.arrivals = c["a"], c["k"], c["fits"], c["arrivals"]
        self.clock_resets = c["clock_resets"]
        self._sweep_t_s, self._sweep_depth, self._sweep_side = c["sweep"]
        self._next_refit_s = -math.inf
