# EWMA realised variance of the mid, robust to jumps. Units: price USD, time s, sigma USD/sqrt(s).

cdef class EwmaVariance:
    cdef readonly double half_life_s, floor_sigma, ceiling_sigma
    cdef readonly double jump_sigmas       # a move beyond this many sigma is a jump (0 = off)
    cdef readonly double variance          # USD^2 / s, diffusion only, before the floor/ceiling clamp
    cdef readonly double last_mid, last_t_s
    cdef readonly long long samples        # accepted moves since creation
    cdef readonly long long jumps          # moves beyond jump_sigmas: capped, counted here
    cdef readonly long long clock_resets   # time stepped back or gapped: re-based, not counted
    cpdef double update(self, double mid, double t_s) noexcept
    cpdef double sigma(self) noexcept
    cpdef void seed(self, double sigma) noexcept
    cpdef void forget_mid(self) noexcept
