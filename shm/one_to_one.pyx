"""One-to-one ring: a single producer and a single consumer, lossless (agrona OneToOneRingBuffer).

The producer copies a record into slot ``head & mask`` and publishes it with one release store
of ``head``; the consumer reads up to ``head`` (acquire) and frees slots with one release store
of ``tail``. Each side caches the other's counter and reloads it only when the cache says
full/empty, so the common case touches no shared cache line but its own. Counters are 64-bit and
only increase; the slot is ``seq & (capacity - 1)``, hence the power-of-two capacity.

The per-record API (``write``/``read_into``) copies from/to a caller-owned record buffer and
allocates nothing; the batch API moves whole NumPy record arrays with at most two memcpy.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memcpy
cimport numpy as cnp

from shm.boundary cimport check_records
from shm.atomics cimport mm_load_acquire, mm_load_relaxed, mm_store_release, mm_store_relaxed

import numpy as np

from shm.descriptor import KIND_ONE_TO_ONE
from shm.errors import RecordSizeError
from shm.segment import Segment

cnp.import_array()

OK = RING_OK
FULL = RING_FULL


cdef class OneToOneRing:
    """A lossless single-producer single-consumer ring over a shared-memory segment.

    Make one with :meth:`create` (the owner, who later unlinks) or :meth:`attach`.
    One process writes, one process reads; both may hold the same object in tests.
    """

    def __cinit__(self, segment, dtype):
        layout = segment.layout
        dtype = np.dtype(dtype)
        if dtype.itemsize != layout.record_size:
            raise RecordSizeError(f"ring {segment.name}: dtype itemsize {dtype.itemsize}, "
                                  f"segment record_size {layout.record_size}")
        self.segment, self.dtype = segment, dtype
        self._view = segment.buf
        cdef unsigned char *base = &self._view[0]
        self._head = <uint64_t *>(base + <Py_ssize_t>layout.head)
        self._tail = <uint64_t *>(base + <Py_ssize_t>layout.tail)
        self._full_count = <uint64_t *>(base + <Py_ssize_t>layout.full_count)
        self._records = base + <Py_ssize_t>layout.records
        self._capacity = layout.capacity
        self._mask = layout.capacity - 1
        self._rsize = layout.record_size
        # A restarted producer or consumer continues from the published counters.
        self._head_local = mm_load_acquire(self._head)
        self._tail_cache = mm_load_acquire(self._tail)
        self._tail_local = self._tail_cache
        self._head_cache = self._head_local

    @classmethod
    def create(cls, str name, dtype, Py_ssize_t capacity):
        """Create (and own) the segment ``name`` for ``capacity`` records of ``dtype``."""
        return cls(Segment.create(name, KIND_ONE_TO_ONE, np.dtype(dtype).itemsize, capacity), dtype)

    @classmethod
    def attach(cls, str name, dtype, capacity=None):
        """Attach to an existing ring, checking its header (magic, version, kind, record size)."""
        return cls(Segment.attach(name, KIND_ONE_TO_ONE, np.dtype(dtype).itemsize, capacity), dtype)

    # ---- EGRESS (producer) -------------------------------------------------------------
    cdef int write_ptr(self, const void *src) noexcept nogil:
        cdef uint64_t head = self._head_local
        if head - self._tail_cache >= self._capacity:
            self._tail_cache = mm_load_acquire(self._tail)
            if head - self._tail_cache >= self._capacity:
                mm_store_relaxed(self._full_count, mm_load_relaxed(self._full_count) + 1)
                return RING_FULL
        memcpy(self._records + (head & self._mask) * self._rsize, src, self._rsize)
        self._head_local = head + 1
        mm_store_release(self._head, head + 1)
        return RING_OK

    cdef Py_ssize_t write_many_ptr(self, const void *src, Py_ssize_t n) noexcept nogil:
        cdef uint64_t head = self._head_local
        cdef uint64_t free = self._capacity - (head - self._tail_cache)
        if free < <uint64_t>n:
            self._tail_cache = mm_load_acquire(self._tail)
            free = self._capacity - (head - self._tail_cache)
        if free == 0:
            mm_store_relaxed(self._full_count, mm_load_relaxed(self._full_count) + 1)
            return 0
        if <uint64_t>n > free:
            n = <Py_ssize_t>free
        cdef uint64_t slot = head & self._mask
        cdef uint64_t first = self._capacity - slot
        if first > <uint64_t>n:
            first = n
        memcpy(self._records + slot * self._rsize, src, first * self._rsize)
        if <uint64_t>n > first:
            memcpy(self._records, <const unsigned char *>src + first * self._rsize,
                   (n - first) * self._rsize)
        self._head_local = head + n
        mm_store_release(self._head, head + n)
        return n

    def write(self, cnp.ndarray record not None):
        """Copy ``record[0]`` into the ring. Returns OK (0) or FULL (1); never raises on full."""
        check_records(record, self._rsize, self.segment, self._records)
        if cnp.PyArray_SIZE(record) < 1:
            return RING_OK
        return self.write_ptr(cnp.PyArray_DATA(record))

    def write_batch(self, cnp.ndarray records not None):
        """Copy as many leading records as fit; returns how many were written (0 when full)."""
        check_records(records, self._rsize, self.segment, self._records)
        return self.write_many_ptr(cnp.PyArray_DATA(records), cnp.PyArray_SIZE(records))

    # ---- INGRESS (consumer) ------------------------------------------------------------
    cdef int read_ptr(self, void *dst) noexcept nogil:
        cdef uint64_t tail = self._tail_local
        if tail >= self._head_cache:
            self._head_cache = mm_load_acquire(self._head)
            if tail >= self._head_cache:
                return 0
        memcpy(dst, self._records + (tail & self._mask) * self._rsize, self._rsize)
        self._tail_local = tail + 1
        mm_store_release(self._tail, tail + 1)
        return 1

    cdef Py_ssize_t read_many_ptr(self, void *dst, Py_ssize_t n) noexcept nogil:
        cdef uint64_t tail = self._tail_local
        cdef uint64_t avail = self._head_cache - tail
        if avail < <uint64_t>n:
            self._head_cache = mm_load_acquire(self._head)
            avail = self._head_cache - tail
        if avail == 0:
            return 0
        if <uint64_t>n > avail:
            n = <Py_ssize_t>avail
        cdef uint64_t slot = tail & self._mask
        cdef uint64_t first = self._capacity - slot
        if first > <uint64_t>n:
            first = n
        memcpy(dst, self._records + slot * self._rsize, first * self._rsize)
        if <uint64_t>n > first:
            memcpy(<unsigned char *>dst + first * self._rsize, self._records, (n - first) * self._rsize)
        self._tail_local = tail + n
        mm_store_release(self._tail, tail + n)
        return n

    def read_into(self, cnp.ndarray out not None):
        """Copy the next record into ``out[0]``; returns 1, or 0 when the ring is empty."""
        check_records(out, self._rsize, self.segment, self._records)
        if cnp.PyArray_SIZE(out) < 1:
            return 0
        return self.read_ptr(cnp.PyArray_DATA(out))

    def read_batch(self, cnp.ndarray out not None):
        """Fill ``out`` from the front with up to ``len(out)`` records; returns how many."""
        check_records(out, self._rsize, self.segment, self._records)
        return self.read_many_ptr(cnp.PyArray_DATA(out), cnp.PyArray_SIZE(out))

    def read(self):
        """The next record as a NumPy scalar, or None when empty (allocates: not for hot loops)."""
        out = np.zeros(1, self.dtype)
        check_records(out, self._rsize, self.segment, self._records)
        return out[0] if self.read_ptr(cnp.PyArray_DATA(out)) else None

    # ---- INSPECTION --------------------------------------------------------------------
    @property
    def capacity(self):
        return self._capacity

    @property
    def head(self):
        """Sequences published so far (monotonic)."""
        return mm_load_acquire(self._head)

    @property
    def tail(self):
        """Sequences consumed so far (monotonic)."""
        return mm_load_acquire(self._tail)

    @property
    def depth(self):
        """Records waiting to be read."""
        cdef uint64_t tail = mm_load_acquire(self._tail)
        return mm_load_acquire(self._head) - tail

    @property
    def full_count(self):
        """Writes refused because the ring was full."""
        return mm_load_relaxed(self._full_count)

    @property
    def name(self):
        return self.segment.name

    def close(self):
        """Drop the mapping (the owner also unlinks the name)."""
        self._records = NULL
        self._view = None
        self.segment.release()
