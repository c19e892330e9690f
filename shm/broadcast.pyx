"""Broadcast ring: one writer, any number of readers with their own cursors (agrona broadcast).

The writer never waits for readers. For sequence ``n`` it marks the slot's sequence word 0
("being written"), copies the record, stores ``n + 1`` into the slot word and then ``n + 1``
into ``tail``, both with release. A reader at cursor ``c`` accepts slot ``c & mask`` only if the
slot word reads ``c + 1`` before *and* after its copy (a seqlock): a record overwritten while
being copied is never returned. A reader that fell more than a capacity behind, or whose slot
changed under it, was lapped: it counts the event in shared memory and resynchronises to the
newest record (``BroadcastReader``), or reports the loss (``StrictBroadcastReader`` raises
``RingLappedError``) for consumers that must not miss data.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memcpy
cimport numpy as cnp

from shm.atomics cimport (mm_fence_acquire, mm_fence_release, mm_fetch_add_relaxed,
                          mm_load_acquire, mm_load_relaxed, mm_store_release, mm_store_relaxed)
from shm.boundary cimport check_records

import numpy as np

from shm.descriptor import KIND_BROADCAST
from shm.errors import RecordSizeError, RingLappedError
from shm.segment import Segment

cnp.import_array()


cdef class BroadcastRing:
    """The shared mapping; use :class:`BroadcastWriter` or a reader."""

    def __cinit__(self, segment, dtype, *args, **kwargs):
        layout = segment.layout
        dtype = np.dtype(dtype)
        if dtype.itemsize != layout.record_size:
            raise RecordSizeError(f"ring {segment.name}: dtype itemsize {dtype.itemsize}, "
                                  f"segment record_size {layout.record_size}")
        self.segment, self.dtype = segment, dtype
        self._view = segment.buf
        cdef unsigned char *base = &self._view[0]
        self._tail = <uint64_t *>(base + <Py_ssize_t>layout.tail)
        self._lapped_count = <uint64_t *>(base + <Py_ssize_t>layout.lapped_count)
        self._seqs = <uint64_t *>(base + <Py_ssize_t>layout.slot_seqs)
        self._records = base + <Py_ssize_t>layout.records
        self._capacity = layout.capacity
        self._mask = layout.capacity - 1
        self._rsize = layout.record_size

    @property
    def capacity(self):
        return self._capacity

    @property
    def tail(self):
        """Records published so far (monotonic)."""
        return mm_load_acquire(self._tail)

    @property
    def lapped_count(self):
        """Lap events of every reader of this ring, from shared memory."""
        return mm_load_relaxed(self._lapped_count)

    @property
    def name(self):
        return self.segment.name

    @property
    def oldest(self):
        """Sequence of the oldest record the ring still holds (0 until it has wrapped)."""
        cdef uint64_t tail = mm_load_acquire(self._tail)
        return tail - self._capacity if tail > self._capacity else 0

    def holds(self, seq):
        """True if a reader starting at ``seq`` would miss nothing: oldest <= seq <= tail."""
        cdef uint64_t tail = mm_load_acquire(self._tail)
        return 0 <= seq <= tail and tail - seq <= self._capacity

    @property
    def identity(self):
        """(owner pid, creation time in wall ns) of the segment: sequences remembered from one
        incarnation of the ring mean nothing in the next."""
        return (self.segment.owner_pid, self.segment.created_wall_ns)

    def close(self):
        """Drop the mapping (the owner also unlinks the name)."""
        self._records = NULL
        self._view = None
        self.segment.release()


cdef class BroadcastWriter(BroadcastRing):
    """The single writer. ``create`` makes (and owns) the segment; ``attach`` takes over one."""

    def __init__(self, segment, dtype):
        self._next = mm_load_acquire(self._tail)  # a restarted writer continues the sequence

    @classmethod
    def create(cls, str name, dtype, Py_ssize_t capacity):
        return cls(Segment.create(name, KIND_BROADCAST, np.dtype(dtype).itemsize, capacity), dtype)

    @classmethod
    def attach(cls, str name, dtype, capacity=None):
        return cls(Segment.attach(name, KIND_BROADCAST, np.dtype(dtype).itemsize, capacity), dtype)

    cdef void write_ptr(self, const void *src) noexcept nogil:
        cdef uint64_t n = self._next
        cdef uint64_t slot = n & self._mask
        mm_store_relaxed(&self._seqs[slot], 0)
        mm_fence_release()  # the "being written" mark is visible before any byte of the copy
        memcpy(self._records + slot * self._rsize, src, self._rsize)
        mm_store_release(&self._seqs[slot], n + 1)
        self._next = n + 1
        mm_store_release(self._tail, n + 1)

    def write(self, cnp.ndarray record not None):
        """Publish ``record[0]``. Never waits and never fails."""
        check_records(record, self._rsize, self.segment, self._records)
        if cnp.PyArray_SIZE(record) >= 1:
            self.write_ptr(cnp.PyArray_DATA(record))

    def write_batch(self, cnp.ndarray records not None):
        """Publish every record of the array in order; returns how many."""
        check_records(records, self._rsize, self.segment, self._records)
        cdef Py_ssize_t i, n = cnp.PyArray_SIZE(records)
        cdef const unsigned char *src = <const unsigned char *>cnp.PyArray_DATA(records)
        with nogil:
            for i in range(n):
                self.write_ptr(src + i * self._rsize)
        return n


cdef class BroadcastReader(BroadcastRing):
    """A reader that tolerates laps: counts them and jumps to the newest record.

    ``start="newest"`` (default) reads only what is published after attaching;
    ``start="oldest"`` begins with the oldest record still in the ring; an int starts at that
    sequence (a consumer resuming where it left off: check ``holds(seq)`` first, a sequence
    already overwritten laps on the first read; ValueError for one not yet published).
    """

    def __init__(self, segment, dtype, start="newest"):
        cdef uint64_t tail = mm_load_acquire(self._tail)
        if isinstance(start, int) and not isinstance(start, bool):
            if not 0 <= start <= tail:
                raise ValueError(f"start={start}: ring {segment.name} has published {tail} records; "
                                 f"expected a sequence in 0..{tail}")
            self._cursor = start
        elif start == "newest":
            self._cursor = tail
        elif start == "oldest":
            self._cursor = tail - self._capacity if tail > self._capacity else 0
        else:
            raise ValueError(f"start={start!r}: expected 'newest', 'oldest' or a sequence number")
        self._strict = False

    @classmethod
    def attach(cls, str name, dtype, start="newest", capacity=None):
        return cls(Segment.attach(name, KIND_BROADCAST, np.dtype(dtype).itemsize, capacity), dtype, start)

    cdef int read_ptr(self, void *dst) noexcept nogil:
        cdef uint64_t tail, c, s1, s2
        cdef unsigned char *src
        while True:
            c = self._cursor
            tail = mm_load_acquire(self._tail)
            if c >= tail:
                return READ_EMPTY
            if tail - c <= self._capacity:
                src = self._records + (c & self._mask) * self._rsize
                s1 = mm_load_acquire(&self._seqs[c & self._mask])
                if s1 == c + 1:
                    memcpy(dst, src, self._rsize)
                    mm_fence_acquire()  # the copy completes before the second look at the slot
                    s2 = mm_load_relaxed(&self._seqs[c & self._mask])
                    if s2 == s1:
                        self._cursor = c + 1
                        return READ_OK
            # Lapped: the slot holds (or is receiving) a newer record than the one we wanted.
            self.lapped += 1
            mm_fetch_add_relaxed(self._lapped_count, 1)
            tail = mm_load_acquire(self._tail)
            self.missed += tail - 1 - c
            self._cursor = tail - 1
            if self._strict:
                return READ_LAPPED

    def read_into(self, cnp.ndarray out not None):
        """Copy the next record into ``out[0]``; returns 1, or 0 when there is nothing new."""
        check_records(out, self._rsize, self.segment, self._records)
        if cnp.PyArray_SIZE(out) < 1:
            return 0
        cdef uint64_t missed = self.missed
        cdef int rc = self.read_ptr(cnp.PyArray_DATA(out))
        if rc == READ_LAPPED:
            raise RingLappedError(self.segment.name, self.missed - missed)
        return rc

    def read_batch(self, cnp.ndarray out not None):
        """Fill ``out`` from the front with up to ``len(out)`` records; returns how many."""
        check_records(out, self._rsize, self.segment, self._records)
        cdef Py_ssize_t i = 0, n = cnp.PyArray_SIZE(out)
        cdef unsigned char *dst = <unsigned char *>cnp.PyArray_DATA(out)
        cdef int rc = READ_OK
        cdef uint64_t missed = self.missed
        with nogil:
            while i < n:
                rc = self.read_ptr(dst + i * self._rsize)
                if rc != READ_OK:
                    break
                i += 1
        if rc == READ_LAPPED:   # out[:i] were read before the lap: the caller keeps them
            raise RingLappedError(self.segment.name, self.missed - missed, i)
        return i

    def read(self):
        """The next record as a NumPy scalar, or None (allocates: not for hot loops)."""
        out = np.zeros(1, self.dtype)
        return out[0] if self.read_into(out) else None

    @property
    def cursor(self):
        """Sequence of the next record this reader will return."""
        return self._cursor

    @property
    def lag(self):
        """Records published but not yet read by this reader."""
        return mm_load_acquire(self._tail) - self._cursor


cdef class StrictBroadcastReader(BroadcastReader):
    """A reader that must not miss data: a lap raises RingLappedError (after resynchronising)."""

    def __init__(self, segment, dtype, start="newest"):
        BroadcastReader.__init__(self, segment, dtype, start)
        self._strict = True
