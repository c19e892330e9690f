# One record that a single writer replaces whole and any reader copies without a lock (a seqlock).
from libc.stdint cimport uint64_t

cdef class SeqlockRecord:
    cdef readonly object segment
    cdef readonly object dtype
    cdef unsigned char[::1] _view
    cdef uint64_t *_seq            # even: stable; odd: a write is under way; 0: never written
    cdef unsigned char *_data      # the record, one 128-byte block after the sequence word
    cdef Py_ssize_t _rsize

    # ---- EGRESS (the one writer) ----
    cdef uint64_t write_ptr(self, const void *src) noexcept nogil
    # ---- INGRESS (any reader) ----
    cdef uint64_t read_ptr(self, void *dst) noexcept nogil
