# Doorbells: a producer rings its consumer's bell after publishing, so an idle consumer can
# sleep in the kernel (futex) instead of polling, and wakes within microseconds.
from libc.stdint cimport int64_t, uint32_t

cdef extern from "futex.h" nogil:
    uint32_t mm_load_seq_cst32(const uint32_t *p)
    uint32_t mm_fetch_add_seq_cst32(uint32_t *p, uint32_t v)
    uint32_t mm_fetch_sub_seq_cst32(uint32_t *p, uint32_t v)
    int mm_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns)
    int mm_futex_wake_all(uint32_t *addr)

cdef class Doorbell:
    cdef object owner              # the Doorbells table whose mapping holds the words
    cdef uint32_t *_seq            # rung count (wraps; only equality matters)
    cdef uint32_t *_waiters        # processes inside wait(), on the next cache line
    cdef readonly int index
    cpdef void ring(self) noexcept
    cpdef uint32_t armed(self) noexcept
    cpdef int wait(self, uint32_t seen, double timeout_s) noexcept
