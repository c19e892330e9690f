# Memory-ordered 64-bit loads and stores (shm/atomics.h). The order is in the name.
from libc.stdint cimport uint64_t

cdef extern from "atomics.h" nogil:
    uint64_t mm_load_acquire(const uint64_t *p)
    uint64_t mm_load_relaxed(const uint64_t *p)
    void mm_store_release(uint64_t *p, uint64_t v)
    void mm_store_relaxed(uint64_t *p, uint64_t v)
    uint64_t mm_fetch_add_relaxed(uint64_t *p, uint64_t v)
    void mm_fence_acquire()
    void mm_fence_release()
    void mm_cpu_relax()
