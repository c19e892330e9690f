"""Pure-Python twin of kernels/volatility.pyx (units there)."""
import math

LN2 = math.log(2.0)
MAX_GAP_HALF_LIVES = 4.0


class EwmaVariance:
    def __init__(self, half_life_s, initial_sigma, floor_sigma=0.0, ceiling_sigma=float("inf")):
        if not half_life_s > 0.0:
            raise ValueError(f"half_life_s={half_life_s}: must be > 0 seconds")
        if not initial_sigma >= 0.0:
            raise ValueError(f"initial_sigma={initial_sigma}: must be >= 0 USD/sqrt(s)")
        if not 0.0 <= floor_sigma <= ceiling_sigma:
            raise ValueError(f"floor_sigma={floor_sigma}, ceiling_sigma={ceiling_sigma}: "
                             "expected 0 <= floor <= ceiling")
        self.half_life_s = float(half_life_s)
        self.floor_sigma = float(floor_sigma)
        self.ceiling_sigma = float(ceiling_sigma)
        self.variance = float(initial_sigma) ** 2
        self.last_mid = math.nan
        self.last_t_s = math.nan
        self.samples = 0
        self.clock_resets = 0

    def update(self, mid, t_s):
        if not (math.isfinite(mid) and mid > 0.0 and math.isfinite(t_s)):
            return self.sigma()
        if not math.isfinite(self.last_mid):
            self.last_mid, self.last_t_s = mid, t_s
            return self.sigma()
        dt = t_s - self.last_t_s
        if dt == 0.0:
            return self.sigma()
        if dt < 0.0 or dt > MAX_GAP_HALF_LIVES * self.half_life_s:
            self.last_mid, self.last_t_s = mid, t_s
            self.clock_resets += 1
            return self.sigma()
        ds = mid - self.last_mid
        lam = math.exp(-LN2 * dt / self.half_life_s)
        self.variance = lam * self.variance + (1.0 - lam) * (ds * ds / dt)
        self.last_mid, self.last_t_s = mid, t_s
        self.samples += 1
        return self.sigma()

    def sigma(self):
        s = math.sqrt(self.variance)
        return min(max(s, self.floor_sigma), self.ceiling_sigma)
