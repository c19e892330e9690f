# Fast cancel in volatile markets: detect a sharp move or a volatility jump of the mid.
# Units: prices USD, time s, sigma USD/sqrt(s).

cdef enum:
    GUARD_CALM = 0
    GUARD_PULL_BIDS = 1      # the market falls: our bids are about to be hit
    GUARD_PULL_ASKS = 2      # the market rises: our asks are about to be lifted
    GUARD_PULL_BOTH = 3      # volatility jumped

cdef class MoveGuard:
    cdef readonly double window_s, max_move, sigma_multiple, vol_jump, settle_s
    cdef double[::1] _t
    cdef double[::1] _mid
    cdef double[::1] _sigma
    cdef int _capacity, _head, _count
    cdef readonly double until_s
    cdef readonly int state
    cdef readonly long long triggers, clock_resets
    cpdef int update(self, double mid, double t_s, double sigma) noexcept
    cdef void _reset_clock(self, double t_s) noexcept
