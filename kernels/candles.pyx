"""Volume candles and the signals that tilt the model (MODELS.md, "Estimators").

A candle closes when its traded volume reaches ``volume_threshold`` (contracts) or when
``max_duration_s`` has passed since its first trade. Over the last ``lookback`` closed candles
(oldest first; r_i = close_i / open_i - 1, s = RMS of r_i) four bounded signals are computed
whenever a candle closes:

- momentum   in (-1, 1): tanh(sum r_i / (s sqrt(m))): the trend's direction and strength.
- reversal   in [-1, 1]: when the newest candle moves against the earlier ones, its return over s
  (capped at 1) in the new direction; else 0.
- volatility in [0, 1]: how far the newest candle's range exceeds the average range (capped).
- exhaustion in [0, 1]: the trend continues but the taker imbalance pushing it fades:
  |momentum| x the drop of signed imbalance between the earlier candles and the newest.

They tilt the model: gamma x (1 + w_gamma_vol vol + w_gamma_exhaustion exh), kappa x
(1 - w_kappa_vol vol), centre + (w_offset_momentum mom (1 - exh) + w_offset_reversal rev) x
half_spread; multipliers clamped to [1/max_multiplier, max_multiplier], the offset to +/-
max_offset_frac x half_spread (USD). The tilt moves the whole ladder, so it changes only when the
signals mean it:
- smoothing: the tilt is computed from an EWMA of each signal over closed candles, the newest
  candle weighing ``smoothing`` (1 = the newest candle alone). A single candle is noise: the
  volatility signal of a random walk jumps between 0 and 1 from one candle to the next, and
  without smoothing kappa flipped between x1 and x1/2 every few seconds.
- hysteresis: a multiplier changes only when its target moved more than ``deadband`` (relative,
  |ln(target / applied)|) from the value applied, and the offset only when its target moved more
  than ``deadband`` half-spreads; otherwise the applied tilt stays. ``tilt_changes`` counts the
  changes (each one moves the ladder).
With smoothing 1 and deadband 0 the tilt is the newest candle's, as in the seed's design.
:meth:`adjust` applies the current tilt to base values (never compounding).

Time is input and may lie: a time before the open candle's start (the clock stepped back) moves
its start there, so its age counts from the new clock instead of waiting for the old one to come
round again (``clock_resets`` counts them); a step forward of any size just closes it as old.
"""
from libc.math cimport fabs, isfinite, log, sqrt, tanh

import numpy as np

from kernels.estimator_state import check_candle_state

cdef enum:
    C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_BUY


cdef inline double clamp(double x, double lo, double hi) noexcept nogil:
    return lo if x < lo else (hi if x > hi else x)


cdef class VolumeCandles:
    """Candles from public trades; signals and the gamma/kappa/offset adjustment they drive."""

    def __init__(self, double volume_threshold, double max_duration_s, int lookback=8,
                 double w_gamma_vol=1.0, double w_gamma_exhaustion=0.5, double w_kappa_vol=0.5,
                 double w_offset_momentum=0.25, double w_offset_reversal=0.25,
                 double max_multiplier=3.0, double max_offset_frac=0.5, double smoothing=1.0,
                 double deadband=0.0):
        if not volume_threshold > 0 or not max_duration_s > 0:
            raise ValueError(f"volume_threshold={volume_threshold}, max_duration_s={max_duration_s}:"
                             " must be > 0 (contracts, seconds)")
        if lookback < 2:
            raise ValueError(f"lookback={lookback}: must be >= 2 candles")
        if not max_multiplier >= 1.0 or not 0.0 <= max_offset_frac <= 1.0:
            raise ValueError(f"max_multiplier={max_multiplier}, max_offset_frac={max_offset_frac}: "
                             "expected max_multiplier >= 1 and 0 <= max_offset_frac <= 1")
        if not 0.0 < smoothing <= 1.0 or not 0.0 <= deadband < float("inf"):
            raise ValueError(f"smoothing={smoothing}, deadband={deadband}: expected 0 < smoothing <= 1 "
                             "(weight of the newest candle) and deadband >= 0")
        self.smoothing, self.deadband = smoothing, deadband
        self._s_momentum = self._s_reversal = self._s_volatility = self._s_exhaustion = 0.0
        self.gamma_mult = self.kappa_mult = 1.0
        self.offset_frac = 0.0
        self.tilt_changes = 0
        self.volume_threshold, self.max_duration_s, self.lookback = volume_threshold, max_duration_s, lookback
        self.w_gamma_vol, self.w_gamma_exhaustion, self.w_kappa_vol = w_gamma_vol, w_gamma_exhaustion, w_kappa_vol
        self.w_offset_momentum, self.w_offset_reversal = w_offset_momentum, w_offset_reversal
        self.max_multiplier, self.max_offset_frac = max_multiplier, max_offset_frac
        self._closed = np.zeros((lookback, 6))
        self.n_closed = 0
        self.momentum = self.reversal = self.volatility = self.exhaustion = 0.0
        self._volume = 0.0
        self.clock_resets = 0

    cpdef bint on_trade(self, double price, double amount, int side, double t_s) noexcept:
        """Add a public trade (USD, contracts, +1 buyer-initiated / -1 seller); True if a candle closed."""
        cdef bint closed = False
        if not (isfinite(price) and price > 0.0 and isfinite(amount) and amount > 0.0 and isfinite(t_s)):
            return False
        self._check_clock(t_s)
        if self._volume > 0.0 and t_s - self._start_t_s >= self.max_duration_s:
            self._close_candle()
            closed = True
        if self._volume == 0.0:
            self._open = self._high = self._low = price
            self._buy_volume = 0.0
            self._start_t_s = t_s
        if price > self._high:
            self._high = price
        if price < self._low:
            self._low = price
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

    cpdef bint on_time(self, double t_s) noexcept:
        """Close the open candle if it is older than max_duration_s; True if it closed."""
        if not isfinite(t_s):
            return False
        self._check_clock(t_s)
        if self._volume > 0.0 and t_s - self._start_t_s >= self.max_duration_s:
            self._close_candle()
            return True
        return False

    cdef void _check_clock(self, double t_s) noexcept:
        if self._volume > 0.0 and t_s < self._start_t_s:
            self._start_t_s = t_s
            self.clock_resets += 1

    cdef void _close_candle(self) noexcept:
        cdef long long slot = self.n_closed % self.lookback
        self._closed[slot, C_OPEN] = self._open
        self._closed[slot, C_HIGH] = self._high
        self._closed[slot, C_LOW] = self._low
        self._closed[slot, C_CLOSE] = self._close
        self._closed[slot, C_VOLUME] = self._volume
        self._closed[slot, C_BUY] = self._buy_volume
        self.n_closed += 1
        self._volume = 0.0
        self._compute_signals()

    cdef void _compute_signals(self) noexcept:
        cdef int m = <int>(self.n_closed if self.n_closed < self.lookback else self.lookback)
        cdef int i
        cdef long long slot
        cdef double r, sum_r = 0.0, sum_r2 = 0.0, prior = 0.0, last_r = 0.0, s
        cdef double rng, sum_range = 0.0, last_range = 0.0, imb, prior_imb = 0.0, last_imb = 0.0
        cdef double direction
        if m < 2:
            return
        for i in range(m):   # oldest first
            slot = (self.n_closed - m + i) % self.lookback
            r = self._closed[slot, C_CLOSE] / self._closed[slot, C_OPEN] - 1.0
            rng = (self._closed[slot, C_HIGH] - self._closed[slot, C_LOW]) / self._closed[slot, C_OPEN]
            imb = 2.0 * self._closed[slot, C_BUY] / self._closed[slot, C_VOLUME] - 1.0
            sum_r += r
            sum_r2 += r * r
            sum_range += rng
            if i < m - 1:
                prior += r
                prior_imb += imb
            else:
                last_r, last_range, last_imb = r, rng, imb
        s = sqrt(sum_r2 / m)
        if s > 0.0:
            self.momentum = tanh(sum_r / (s * sqrt(<double>m)))
            if prior * last_r < 0.0:
                self.reversal = (1.0 if last_r > 0.0 else -1.0) * min(1.0, fabs(last_r) / s)
            else:
                self.reversal = 0.0
        else:
            self.momentum = self.reversal = 0.0
        if sum_range > 0.0:
            self.volatility = clamp(last_range / (sum_range / m) - 1.0, 0.0, 1.0)
        else:
            self.volatility = 0.0
        direction = 1.0 if self.momentum > 0.0 else (-1.0 if self.momentum < 0.0 else 0.0)
        self.exhaustion = clamp(direction * (prior_imb / (m - 1) - last_imb), 0.0, 1.0) * fabs(self.momentum)
        self._update_tilt()

    cdef void _update_tilt(self) noexcept:
        # Smooth the signals over candles, then move each part of the tilt only past the deadband.
        cdef double a = self.smoothing, lo = 1.0 / self.max_multiplier, hi = self.max_multiplier
        cdef double g, k, o
        cdef bint changed = False
        self._s_momentum += a * (self.momentum - self._s_momentum)
        self._s_reversal += a * (self.reversal - self._s_reversal)
        self._s_volatility += a * (self.volatility - self._s_volatility)
        self._s_exhaustion += a * (self.exhaustion - self._s_exhaustion)
        g = clamp(1.0 + self.w_gamma_vol * self._s_volatility + self.w_gamma_exhaustion * self._s_exhaustion, lo, hi)
        k = clamp(1.0 - self.w_kappa_vol * self._s_volatility, lo, hi)
        o = clamp(self.w_offset_momentum * self._s_momentum * (1.0 - self._s_exhaustion)
                  + self.w_offset_reversal * self._s_reversal, -self.max_offset_frac, self.max_offset_frac)
        if g != self.gamma_mult and fabs(log(g / self.gamma_mult)) > self.deadband:
            self.gamma_mult, changed = g, True
        if k != self.kappa_mult and fabs(log(k / self.kappa_mult)) > self.deadband:
            self.kappa_mult, changed = k, True
        if o != self.offset_frac and fabs(o - self.offset_frac) > self.deadband:
            self.offset_frac, changed = o, True
        if changed:
            self.tilt_changes += 1

    cdef void adjust_c(self, double base_gamma, double base_kappa, double half_spread,
                       double *gamma, double *kappa, double *offset) noexcept nogil:
        gamma[0] = base_gamma * self.gamma_mult
        kappa[0] = base_kappa * self.kappa_mult
        offset[0] = self.offset_frac * half_spread

    cpdef tuple adjust(self, double base_gamma, double base_kappa, double half_spread):
        """(gamma, kappa, offset USD) from base values and the current tilt; bounded, not compounding."""
        cdef double g, k, o
        self.adjust_c(base_gamma, base_kappa, half_spread, &g, &k, &o)
        return g, k, o

    # ---- persistence (not the hot path) ----------------------------------------------------
    def state(self) -> dict:
        """Everything that evolves, as plain numbers and lists (JSON-able)."""
        m = min(self.n_closed, self.lookback)
        closed = [[float(x) for x in self._closed[(self.n_closed - m + i) % self.lookback]] for i in range(m)]
        return {"lookback": self.lookback, "closed": closed, "n_closed": self.n_closed,
                "open": [self._open, self._high, self._low, self._close, self._volume, self._buy_volume,
                         self._start_t_s] if self._volume > 0.0 else None,
                "signals": [self.momentum, self.reversal, self.volatility, self.exhaustion],
                "smoothed": [self._s_momentum, self._s_reversal, self._s_volatility, self._s_exhaustion],
                "tilt": [self.gamma_mult, self.kappa_mult, self.offset_frac],
                "tilt_changes": self.tilt_changes, "clock_resets": self.clock_resets}

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state`'s output (same lookback); ValueError naming what is wrong."""
        c = check_candle_state(state, self.lookback, self.max_multiplier, self.max_offset_frac)
        self._closed[:, :] = 0.0
        for i, row in enumerate(c["closed"]):
            for j in range(6):
                self._closed[(c["n_closed"] - len(c["closed"]) + i) % self.lookback, j] = row[j]
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
