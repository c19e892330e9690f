# The quoter's one entry point: market record + inventory -> a filled QuoteSet record.
from shm.records cimport MM_MAX_LEVELS, MdRecord, QuoteSet
from kernels.volatility cimport EwmaVariance
from kernels.intensity cimport IntensityEstimator
from kernels.candles cimport VolumeCandles
from kernels.ladder cimport LadderSpec
from kernels.guard cimport MoveGuard
from kernels.markout cimport Markout

cdef class QuoteEngine:
    # ---- instrument ----
    cdef readonly double tick_size, amount_tick, min_amount, expiry_s
    # ---- model numbers (copied from QuoteParams) ----
    cdef int _glft
    cdef double _gamma, _xi_zero, _order_unit, _horizon_s, _maker_fee_rate, _tolerance
    cdef bint _use_candles, _fee_aware
    cdef LadderSpec _spec
    cdef double _c_gamma, _c_kappa, _c_a, _c1, _c2   # model terms cached for these gamma, kappa, A
    # ---- estimators ----
    cdef readonly EwmaVariance vol
    cdef readonly IntensityEstimator intensity
    cdef readonly VolumeCandles candles
    cdef readonly MoveGuard guard          # None when fast cancel is off
    cdef readonly Markout markout
    cdef int _guard_prev, _markout_h
    cdef double _fc_widen, _markout_threshold, _markout_cap
    cdef bint _markout_widen
    # ---- what was last published (for the requote tolerance) ----
    cdef double _last_bid_price[MM_MAX_LEVELS]
    cdef double _last_bid_amount[MM_MAX_LEVELS]
    cdef double _last_ask_price[MM_MAX_LEVELS]
    cdef double _last_ask_amount[MM_MAX_LEVELS]
    cdef int _last_n_bids, _last_n_asks
    cdef public double tolerance_scale    # x requote_tolerance_ticks (the quoter widens it on a low budget)
    cdef readonly bint pulled
    cdef readonly object params
    # ---- the market clock (s): exchange time where it advances, receive time where it does not ----
    cdef readonly double market_time_s
    cdef double _receive_s
    cdef long long _exchange_ts_ns
    cdef readonly long long clock_resyncs

    cpdef void on_trade(self, double price, double amount, int side, double t_s) noexcept
    cpdef void on_fill(self, int side, double price, double t_s) noexcept
    cpdef int quote(self, object md, double inventory, double open_bid, double open_ask, object out) except -1
    cdef void _model(self, double fair, double q, double gamma, double kappa, double a, double sigma,
                     double t_s, double *r, double *half) noexcept
    cdef double _market_time(self, const MdRecord *md) noexcept
    cdef double _tau(self, double t_s) noexcept
    cdef void _fill_header(self, const MdRecord *md, double inventory, unsigned short kind,
                           unsigned int reason, QuoteSet *out) noexcept
    cdef int _pull(self, const MdRecord *md, double inventory, unsigned int reason, QuoteSet *out) noexcept
    cdef int quote_c(self, const MdRecord *md, double inventory, double open_bid, double open_ask,
                     QuoteSet *out) noexcept
