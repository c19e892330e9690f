"""A seqlocked record: one writer replaces it whole, any reader copies it without a lock.

Segment ``mm.<instance>.<name>``, a table of one slot: the 64-bit sequence word on its own
128-byte block, then the record. The protocol (a seqlock)::

    writer                                        reader
    s = seq  (odd: a writer died mid-copy: s + 1)  s1 = seq (acquire); 0 or odd: nothing to take
    seq = s + 1 (relaxed); release fence          copy the record
    copy the record                               acquire fence
    seq = s + 2 (release)                         s2 = seq (relaxed); s1 == s2: the copy is whole

A reader never returns a record that was being changed while it copied: it reports 0 and tries
again later, keeping what it had. Sequence 0 means nothing was ever written; every completed
write advances the sequence by 2, so ``seq // 2`` counts the writes. One writer at a time (the
segment's owner); readers attach and may come and go.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memcpy
cimport numpy as cnp

from shm.atomics cimport mm_fence_acquire, mm_fence_release, mm_load_acquire, mm_load_relaxed, mm_store_release, mm_store_relaxed
from shm.boundary cimport check_records

import numpy as np

from shm.descriptor import BLOCK, KIND_TABLE
from shm.errors import RecordSizeError
from shm.segment import Segment

cnp.import_array()


cdef class SeqlockRecord:
    """``create`` (the writer, which owns the segment) or ``attach`` (readers)."""

    def __cinit__(self, segment, dtype):
        dtype = np.dtype(dtype)
        if BLOCK + dtype.itemsize != segment.layout.record_size:
            raise RecordSizeError(f"record {segment.name}: dtype itemsize {dtype.itemsize}, segment slot "
                                  f"{segment.layout.record_size} bytes (expected {BLOCK} + itemsize)")
        self.segment, self.dtype = segment, dtype
        self._view = segment.buf
        cdef Py_ssize_t records = segment.layout.records, block = BLOCK
        cdef unsigned char *base = &self._view[0] + records
        self._seq = <uint64_t *>base
        self._data = base + block
        self._rsize = dtype.itemsize

    @classmethod
    def create(cls, str name, dtype):
        return cls(Segment.create(name, KIND_TABLE, BLOCK + np.dtype(dtype).itemsize, 1), dtype)

    @classmethod
    def attach(cls, str name, dtype):
        return cls(Segment.attach(name, KIND_TABLE, BLOCK + np.dtype(dtype).itemsize, 1), dtype)

    # ---- EGRESS ----------------------------------------------------------------------------
    cdef uint64_t write_ptr(self, const void *src) noexcept nogil:
        cdef uint64_t s = mm_load_relaxed(self._seq)
        s += s & 1                       # a writer that died mid-copy left it odd
        mm_store_relaxed(self._seq, s + 1)
        mm_fence_release()               # "being written" is visible before any byte changes
        memcpy(self._data, src, self._rsize)
        mm_store_release(self._seq, s + 2)
        return s + 2

    def write(self, cnp.ndarray record not None):
        """Replace the record with ``record[0]``; returns the new (even) sequence."""
        check_records(record, self._rsize, self.segment, self._data)
        if cnp.PyArray_SIZE(record) < 1:
            raise ValueError(f"record {self.segment.name}: nothing to write (an empty array)")
        return self.write_ptr(cnp.PyArray_DATA(record))

    # ---- INGRESS ---------------------------------------------------------------------------
    cdef uint64_t read_ptr(self, void *dst) noexcept nogil:
        cdef uint64_t s1 = mm_load_acquire(self._seq)
        if s1 == 0 or s1 & 1:
            return 0
        memcpy(dst, self._data, self._rsize)
        mm_fence_acquire()               # the copy is complete before the sequence is read again
        if mm_load_relaxed(self._seq) != s1:
            return 0
        return s1

    def read_into(self, cnp.ndarray out not None):
        """Copy the record into ``out[0]``; returns its sequence, or 0 when nothing was written yet
        or a write was under way (``out`` may then hold a mix: discard it and try again later)."""
        check_records(out, self._rsize, self.segment, self._data)
        if cnp.PyArray_SIZE(out) < 1:
            return 0
        return self.read_ptr(cnp.PyArray_DATA(out))

    @property
    def sequence(self):
        """The current sequence (acquire): compare it with the last one taken to see a new write."""
        if self._seq == NULL:
            from shm.errors import ShmError
            raise ShmError(f"record {self.segment.name} is closed")
        return mm_load_acquire(self._seq)

    @property
    def name(self):
        return self.segment.name

    def close(self):
        """Drop the mapping (the owner also unlinks the name)."""
        self._data = NULL
        self._seq = NULL
        self._view = None
        self.segment.release()
