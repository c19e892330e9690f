# One writer, any number of readers, each with its own cursor. The writer never waits.
from libc.stdint cimport uint64_t

cdef enum:
    READ_EMPTY = 0
    READ_OK = 1
    READ_LAPPED = -1   # strict readers only: records were lost

cdef class BroadcastRing:
    cdef readonly object segment
    cdef readonly object dtype
    cdef unsigned char[::1] _view
    cdef unsigned char *_records
    cdef uint64_t *_tail          # sequences published; writer stores with release
    cdef uint64_t *_lapped_count  # lap events across all readers (fetch-add)
    cdef uint64_t *_seqs          # per slot: seq + 1 of the record in it, 0 while being written
    cdef uint64_t _capacity, _mask
    cdef Py_ssize_t _rsize


cdef class BroadcastWriter(BroadcastRing):
    cdef uint64_t _next
    cdef void write_ptr(self, const void *src) noexcept nogil


cdef class BroadcastReader(BroadcastRing):
    cdef uint64_t _cursor
    cdef readonly uint64_t lapped   # lap events seen by this reader
    cdef readonly uint64_t missed   # records skipped because of laps
    cdef bint _strict
    cdef int read_ptr(self, void *dst) noexcept nogil
