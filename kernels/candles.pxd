# Volume candles, their four bounded signals, and the smoothed, hysteretic, non-compounding tilt.
# Units: prices USD, amounts contracts, time s; signals are dimensionless.

cdef class VolumeCandles:
    cdef readonly double volume_threshold, max_duration_s
    cdef readonly int lookback
    cdef readonly double w_gamma_vol, w_gamma_exhaustion, w_kappa_vol
    cdef readonly double w_offset_momentum, w_offset_reversal, max_multiplier, max_offset_frac
    cdef readonly long long n_closed, clock_resets
    cdef readonly double momentum, reversal, volatility, exhaustion
    # the tilt: signals smoothed over candles, applied only past the deadband
    cdef readonly double smoothing, deadband
    cdef double _s_momentum, _s_reversal, _s_volatility, _s_exhaustion
    cdef readonly double gamma_mult, kappa_mult, offset_frac   # applied: x gamma, x kappa, x half-spread
    cdef readonly long long tilt_changes
    cdef double[:, ::1] _closed        # ring of closed candles: open, high, low, close, volume, buy volume
    # the candle being built
    cdef double _open, _high, _low, _close, _volume, _buy_volume, _start_t_s

    cpdef bint on_trade(self, double price, double amount, int side, double t_s) noexcept
    cpdef bint on_time(self, double t_s) noexcept
    cpdef tuple adjust(self, double base_gamma, double base_kappa, double half_spread)
    cdef void adjust_c(self, double base_gamma, double base_kappa, double half_spread,
                       double *gamma, double *kappa, double *offset) noexcept nogil
    cdef void _check_clock(self, double t_s) noexcept
    cdef void _close_candle(self) noexcept
    cdef void _compute_signals(self) noexcept
    cdef void _update_tilt(self) noexcept
