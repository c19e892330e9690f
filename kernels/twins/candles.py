"""Pure-Python twin of kernels/candles.pyx (signal and tilt definitions there)."""
import math

from kernels.estimator_state import check_candle_state


def _clamp(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


class VolumeCandles:
    def __init__(self, volume_threshold, max_duration_s, lookback=8, w_gamma_vol=1.0,
                 w_gamma_exhaustion=0.5, w_kappa_vol=0.5, w_offset_momentum=0.25,
                 w_offset_reversal=0.25, max_multiplier=3.0, max_offset_frac=0.5, smoothing=1.0,
                 deadband=0.0):
        if not volume_threshold > 0 or not max_duration_s > 0:
            raise ValueError(f"volume_threshold={volume_threshold}, max_duration_s={max_duration_s}:"
                             " must be > 0 (contracts, seconds)")
        if lookback < 2:
            raise ValueError(f"lookback={lookback}: must be >= 2 candles")
        if not max_multiplier >= 1.0 or not 0.0 <= max_offset_frac <= 1.0:
            raise ValueError(f"max_multiplier={max_multiplier}, max_offset_frac={max_offset_frac}: "
                             "expected max_multiplier >= 1 and 0 <= max_offset_frac <= 1")
        if not 0.0 < smoothing <= 1.0 or not 0.0 <= deadband < math.inf:
            raise ValueError(f"smoothing={smoothing}, deadband={deadband}: expected 0 < smoothing <= 1 "
                             "(weight of the newest candle) and deadband >= 0")
        self.smoothing, self.deadband = float(smoothing), float(deadband)
        self._s_momentum = self._s_reversal = self._s_volatility = self._s_exhaustion = 0.0
        self.gamma_mult = self.kappa_mult = 1.0
        self.offset_frac = 0.0
        self.tilt_changes = 0
        self.volume_threshold, self.max_duration_s, self.lookback = volume_threshold, max_duration_s, lookback
        self.w_gamma_vol, self.w_gamma_exhaustion, self.w_kappa_vol = w_gamma_vol, w_gamma_exhaustion, w_kappa_vol
        self.w_offset_momentum, self.w_offset_reversal = w_offset_momentum, w_offset_reversal
        self.max_multiplier, self.max_offset_frac = max_multiplier, max_offset_frac
        self._closed = [None] * lookback
        self.n_closed = 0
        self.momentum = self.reversal = self.volatility = self.exhaustion = 0.0
        self._volume = 0.0
        self.clock_resets = 0

    def on_trade(self, price, amount, side, t_s):
        if not (math.isfinite(price) and price > 0 and math.isfinite(amount) and amount > 0
                and math.isfinite(t_s)):
            return False
        self._check_clock(t_s)
        closed = False
        if self._volume > 0.0 and t_s - self._start_t_s >= self.max_duration_s:
            self._close_candle()
            closed = True
        if self._volume == 0.0:
            self._open = self._high = self._low = price
            self._buy_volume = 0.0
            self._start_t_s = t_s
        self._high = max(self._high, price)
        self._low = min(self._low, price)
        self._close = price
        self._volume += amount
        if side > 0:
            self._buy_volume += amount
        elif side == 0:
            self._buy_volume += 0.5 * amount
        if self._volume >= self.volume_threshold:
            self._close_candle()
            closed = True
        return closed

    def on_time(self, t_s):
        if not math.isfinite(t_s):
            return False
        self._check_clock(t_s)
        if self._volume > 0.0 and t_s - self._start_t_s >= self.max_duration_s:
            self._close_candle()
            return True
        return False

    def _check_clock(self, t_s):
        if self._volume > 0.0 and t_s < self._start_t_s:
            self._start_t_s = t_s
            self.clock_resets += 1

    def _close_candle(self):
        self._closed[self.n_closed % self.lookback] = (
            self._open, self._high, self._low, self._close, self._volume, self._buy_volume)
        self.n_closed += 1
        self._volume = 0.0
        self._compute_signals()

    def _compute_signals(self):
        m = min(self.n_closed, self.lookback)
        if m < 2:
            return
        rows = [self._closed[(self.n_closed - m + i) % self.lookback] for i in range(m)]
        r = [c / o - 1.0 for o, h, l, c, v, b in rows]
        rng = [(h - l) / o for o, h, l, c, v, b in rows]
        imb = [2.0 * b / v - 1.0 for o, h, l, c, v, b in rows]
        s = math.sqrt(sum(x * x for x in r) / m)
        prior, last_r = sum(r[:-1]), r[-1]
        if s > 0.0:
            self.momentum = math.tanh(sum(r) / (s * math.sqrt(m)))
            self.reversal = (math.copysign(1.0, last_r) * min(1.0, abs(last_r) / s)
                             if prior * last_r < 0.0 else 0.0)
        else:
            self.momentum = self.reversal = 0.0
        mean_range = sum(rng) / m
        self.volatility = _clamp(rng[-1] / mean_range - 1.0, 0.0, 1.0) if mean_range > 0 else 0.0
        direction = (self.momentum > 0) - (self.momentum < 0)
        self.exhaustion = (_clamp(direction * (sum(imb[:-1]) / (m - 1) - imb[-1]), 0.0, 1.0)
                           * abs(self.momentum))
        self._update_tilt()

    def _update_tilt(self):
        a, lo, hi = self.smoothing, 1.0 / self.max_multiplier, self.max_multiplier
        self._s_momentum += a * (self.momentum - self._s_momentum)
        self._s_reversal += a * (self.reversal - self._s_reversal)
        self._s_volatility += a * (self.volatility - self._s_volatility)
        self._s_exhaustion += a * (self.exhaustion - self._s_exhaustion)
        g = _clamp(1.0 + self.w_gamma_vol * self._s_volatility + self.w_gamma_exhaustion * self._s_exhaustion,
                   lo, hi)
        k = _clamp(1.0 - self.w_kappa_vol * self._s_volatility, lo, hi)
        o = _clamp(self.w_offset_momentum * self._s_momentum * (1.0 - self._s_exhaustion)
                   + self.w_offset_reversal * self._s_reversal, -self.max_offset_frac, self.max_offset_frac)
        changed = False
        if g != self.gamma_mult and abs(math.log(g / self.gamma_mult)) > self.deadband:
            self.gamma_mult, changed = g, True
        if k != self.kappa_mult and abs(math.log(k / self.kappa_mult)) > self.deadband:
            self.kappa_mult, changed = k, True
        if o != self.offset_frac and abs(o - self.offset_frac) > self.deadband:
            self.offset_frac, changed = o, True
        if changed:
            self.tilt_changes += 1

    def adjust(self, base_gamma, base_kappa, half_spread):
        return base_gamma * self.gamma_mult, base_kappa * self.kappa_mult, self.offset_frac * half_spread

    def state(self):
        m = min(self.n_closed, self.lookback)
        closed = [list(self._closed[(self.n_closed - m + i) % self.lookback]) for i in range(m)]
        return {"lookback": self.lookback, "closed": closed, "n_closed": self.n_closed,
                "open": [self._open, self._high, self._low, self._close, self._volume, self._buy_volume,
                         self._start_t_s] if self._volume > 0.0 else None,
                "signals": [self.momentum, self.reversal, self.volatility, self.exhaustion],
                "smoothed": [self._s_momentum, self._s_reversal, self._s_volatility, self._s_exhaustion],
                "tilt": [self.gamma_mult, self.kappa_mult, self.offset_frac],
                "tilt_changes": self.tilt_changes, "clock_resets": self.clock_resets}

    def restore(self, state):
        c = check_candle_state(state, self.lookback, self.max_multiplier, self.max_offset_frac)
        self._closed = [None] * self.lookback
        for i, row in enumerate(c["closed"]):
            self._closed[(c["n_closed"] - len(c["closed"]) + i) % self.lookback] = tuple(row)
        self.n_closed = c["n_closed"]
        if c["open"] is None:
            self._volume = 0.0
        else:
            (self._open, self._high, self._low, self._close, self._volume, self._buy_volume,
             self._start_t_s) = c["open"]
        self.momentum, self.reversal, self.volatility, self.exhaustion = c["signals"]
        self._s_momentum, self._s_reversal, self._s_volatility, self._s_exhaustion = c["smoothed"]
        self.gamma_mult, self.kappa_mult, self.offset_frac = c["tilt"]
        self.tilt_changes, self.clock_resets = c["tilt_changes"], c["clock_resets"]
