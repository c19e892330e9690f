# One producer, one consumer, lossless: a full ring is a return code, never an exception.
from libc.stdint cimport uint64_t

cdef enum:
    RING_OK = 0
    RING_FULL = 1

cdef class OneToOneRing:
    cdef readonly object segment
    cdef readonly object dtype
    cdef unsigned char[::1] _view
    cdef unsigned char *_records
    cdef uint64_t *_head          # next sequence to write; producer stores with release
    cdef uint64_t *_tail          # next sequence to read; consumer stores with release
    cdef uint64_t *_full_count    # writes refused because the ring was full (producer only)
    cdef uint64_t _capacity, _mask
    cdef Py_ssize_t _rsize
    cdef uint64_t _head_local, _tail_cache   # producer side
    cdef uint64_t _tail_local, _head_cache   # consumer side

    # ---- EGRESS (producer) ----
    cdef int write_ptr(self, const void *src) noexcept nogil
    cdef Py_ssize_t write_many_ptr(self, const void *src, Py_ssize_t n) noexcept nogil
    # ---- INGRESS (consumer) ----
    cdef int read_ptr(self, void *dst) noexcept nogil
    cdef Py_ssize_t read_many_ptr(self, void *dst, Py_ssize_t n) noexcept nogil
