# Online fit of the fill intensity lambda(delta) = A exp(-k delta) from public trades and the mid.
# Units: prices and depths USD, time s, A fills/s (per side), k 1/USD.

cdef class IntensityEstimator:
    cdef readonly int n_depths, n_buckets
    cdef double[::1] _depths           # USD from the mid, increasing
    cdef double[:, ::1] _counts        # arrivals reaching each depth, per time bucket
    cdef double[::1] _exposure         # seconds of exposure per bucket (one side)
    cdef readonly double window_s, bucket_s, refit_interval_s, min_arrivals, k_min, k_max
    cdef readonly double prior_a, prior_k
    cdef readonly double a, k          # current estimate: the prior until the first good fit
    cdef readonly long long fits, arrivals
    cdef readonly long long clock_resets   # time stepped back by more than a bucket: window forgotten
    cdef double _mid, _last_t_s, _next_refit_s
    cdef long long _bucket             # absolute bucket number of _last_t_s
    cdef double _sweep_t_s, _sweep_depth
    cdef int _sweep_side

    cpdef void on_mid(self, double mid, double t_s) noexcept
    cpdef void forget_mid(self) noexcept
    cpdef void on_trade(self, double price, int side, double t_s) noexcept
    cpdef bint maybe_refit(self, double t_s) noexcept
    cpdef bint refit(self) noexcept
    cdef void _advance(self, double t_s) noexcept
    cdef long long _slot(self, long long bucket) noexcept
    cdef void _forget(self) noexcept
    cdef void _reset_clock(self, double t_s) noexcept
    cdef double _tilted_mean(self, double k) noexcept
