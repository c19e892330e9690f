# Plausibility of market data against our clock and the last good data (the feed's checks).
# Units: times ns (exchange and wall clock Unix, mono_ns monotonic), prices USD, bands fractions.
from shm.records cimport MdRecord

cdef class MdPlausibility:
    cdef readonly int n_instruments
    cdef readonly long long ahead_ns, behind_ns, reanchor_ns
    cdef readonly double band, index_band          # fractions (bps x 1e-4)
    cdef long long[:, ::1] _newest                 # [instrument, record type] newest exchange time
    cdef readonly double[::1] good_mark            # [instrument] last good mark, NaN before one
    cdef long long[::1] _off_since                 # [instrument] mono ns of the first off-band mark
    cdef readonly long long[::1] refused           # [instrument] refused since its last good record
    cdef readonly long long[::1] counts            # [reason] refusals
    cdef readonly long long episode_refused        # refusals that ended with the last GOOD_AGAIN

    cpdef int check_md(self, object md, long long wall_ns, long long mono_ns) except -1
    cdef int check_md_c(self, const MdRecord *r, long long wall_ns, long long mono_ns) noexcept
    cpdef int check_trade(self, object trade, long long wall_ns) except -1
    cpdef void forget_order(self) noexcept
