"""Pure-Python twin of kernels/volatility.pyx (units and the jump rule there)."""
import math

from kernels.estimator_state import check_volatility_state

LN2 = math.log(2.0)
MAX_GAP_HALF_LIVES = 4.0


class EwmaVariance:
    def __init__(self, half_life_s, initial_sigma, floor_sigma=0.0, ceiling_sigma=float("inf"),
                 jump_sigmas=0.0):
        if not half_life_s > 0.0:
            raise ValueError(f"half_life_s={half_life_s}: must be > 0 seconds")
        if not initial_sigma >= 0.0:
            raise ValueError(f"initial_sigma={initial_sigma}: must be >= 0 USD/sqrt(s)")
        if not 0.0 <= floor_sigma <= ceiling_sigma:
            raise ValueError(f"floor_sigma={floor_sigma}, ceiling_sigma={ceiling_sigma}: "
                             "expected 0 <= floor <= ceiling")
        if not (jump_sigmas == 0.0 or 1.0 < jump_sigmas < math.inf):
            raise ValueError(f"jump_sigmas={jump_sigmas}: expected 0 (off) or a finite number > 1 sigma")
        self.half_life_s = float(half_life_s)
        self.floor_sigma = float(floor_sigma)
        self.ceiling_sigma = float(ceiling_sigma)
        self.jump_sigmas = float(jump_sigmas)
        self.variance = float(initial_sigma) ** 2
        self.last_mid = math.nan
        self.last_t_s = math.nan
        self.samples = 0
        self.jumps = 0
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
        x = ds * ds / dt
        if self.jump_sigmas > 0.0:
            s = self.sigma()
            cap = self.jump_sigmas * self.jump_sigmas * s * s
            if cap > 0.0 and x > cap:
                x = cap
                self.jumps += 1
        lam = math.exp(-LN2 * dt / self.half_life_s)
        self.variance = lam * self.variance + (1.0 - lam) * x
        self.last_mid, self.last_t_s = mid, t_s
        self.samples += 1
        return self.sigma()

    def sigma(self):
        s = math.sqrt(self.variance)
        return min(max(s, self.floor_sigma), self.ceiling_sigma)

    def seed(self, sigma):
        if math.isfinite(sigma) and sigma >= 0.0:
            self.variance = float(sigma) ** 2
            self.forget_mid()

    def forget_mid(self):
        self.last_mid = self.last_t_s = math.nan

    def state(self):
        return {"variance": self.variance, "last_mid": self.last_mid, "last_t_s": self.last_t_s,
                "samples": self.samples, "jumps": self.jumps, "clock_resets": self.clock_resets}

    def restore(self, state):
        """Continue from :meth:`state`'s output; ValueError naming a missing or bad field."""
        c = check_volatility_state(state)
        self.variance, self.last_mid, self.last_t_s = c["variance"], c["last_mid"], c["last_t_s"]
        self.samples, self.jumps, self.clock_resets = c["samples"], c["jumps"], c["clock_resets"]
