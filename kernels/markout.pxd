# Markouts: how the mid moved after each of our fills (adverse selection). Units: USD, s.

cdef class Markout:
    cdef readonly int n_horizons, capacity
    cdef double[::1] _horizons            # seconds
    cdef double[::1] _fill_t, _fill_price
    cdef int[::1] _fill_side
    cdef long long _next                  # fills ever added
    cdef long long[::1] _resolved         # per horizon: fills resolved so far
    cdef double[:, ::1] _avg              # [side (0 buys, 1 sells), horizon] EWMA, USD per contract
    cdef long long[:, ::1] _count
    cdef readonly double alpha
    cdef readonly long long dropped, clock_resets   # clock_resets: fills restamped (see the .pyx)
    cpdef void on_fill(self, int side, double price, double t_s) noexcept
    cpdef int on_mid(self, double mid, double t_s) noexcept
    cpdef double average(self, int side, int horizon_index) noexcept
