"""Doorbells: sleep until another process publishes, without polling.

A table segment ``mm.<instance>.doorbells`` holds one 128-byte slot per consumer: a 32-bit
``seq``, the consumer's name (bytes 8-39, written once by the creator, so this module holds no
list of processes: the supervisor passes conf.schema.BELLED) and, one cache line later, a 32-bit
``waiters`` count. The protocol:

    consumer                                  producer
    seen = bell.armed()   # before looking     publish the record (release)
    ... look at the rings: nothing ...        bell.ring():  seq += 1           (seq_cst)
    bell.wait(seen, timeout):                               if waiters: futex_wake(seq)
        waiters += 1                (seq_cst)
        futex_wait(seq, seen, timeout)   # the kernel sleeps only while seq == seen
        waiters -= 1

Either the producer's increment comes before the consumer's futex_wait reads ``seq`` (the wait
returns at once), or the consumer's ``waiters += 1`` comes before the producer reads ``waiters``
(the producer wakes it): with sequentially consistent increments no wake-up is lost. A ring costs
one atomic add and one load, plus a system call only while someone sleeps.
"""
from libc.stdint cimport uint32_t

from shm.descriptor import KIND_TABLE
from shm.segment import Segment, segment_name

SLOT_SIZE = 128
NAME_OFFSET, NAME_BYTES = 8, 32
WAITERS_OFFSET = 64


cdef class Doorbell:
    """One consumer's bell. ``ring`` from any producer; ``armed``/``wait`` from the consumer."""

    def __cinit__(self, owner, int index):
        cdef unsigned char[::1] view = owner.segment.buf
        cdef Py_ssize_t base = <Py_ssize_t>owner.segment.layout.records + index * SLOT_SIZE
        self.owner, self.index = owner, index
        self._seq = <uint32_t *>&view[base]
        self._waiters = <uint32_t *>&view[base + WAITERS_OFFSET]

    cpdef void ring(self) noexcept:
        """Tell the consumer there is something new (cheap when nobody sleeps)."""
        mm_fetch_add_seq_cst32(self._seq, 1)
        if mm_load_seq_cst32(self._waiters):
            mm_futex_wake_all(self._seq)

    cpdef uint32_t armed(self) noexcept:
        """The current ring count: read it before looking for work, pass it to :meth:`wait`."""
        return mm_load_seq_cst32(self._seq)

    cpdef int wait(self, uint32_t seen, double timeout_s) noexcept:
        """Sleep until rung after ``seen`` was read, at most ``timeout_s``; 1 if it timed out."""
        cdef int rc
        mm_fetch_add_seq_cst32(self._waiters, 1)
        with nogil:
            rc = mm_futex_wait(self._seq, seen, <long long>(timeout_s * 1e9))
        mm_fetch_sub_seq_cst32(self._waiters, 1)
        return rc

    @property
    def seq(self):
        return mm_load_seq_cst32(self._seq)


class Doorbells:
    """The doorbell table of one instance: ``create`` (supervisor, owner) or ``attach``."""

    def __init__(self, segment):
        self.segment = segment
        self._bells = {}
        base = segment.layout.records
        self.slots = {}                # name -> slot index, as the creator wrote them
        for i in range(segment.layout.capacity):
            at = base + i * SLOT_SIZE + NAME_OFFSET
            name = bytes(segment.buf[at:at + NAME_BYTES]).rstrip(b"\0").decode()
            if name:
                self.slots[name] = i

    @classmethod
    def create(cls, instance: str, names):
        """One bell per name in ``names`` (the processes that sleep on one), in that order."""
        names = tuple(names)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"doorbells {names!r}: expected distinct names, at least one")
        segment = Segment.create(segment_name(instance, "doorbells"), KIND_TABLE, SLOT_SIZE, len(names))
        for i, name in enumerate(names):
            raw = name.encode()
            if not 0 < len(raw) <= NAME_BYTES:
                segment.release()
                raise ValueError(f"doorbell name {name!r}: expected 1..{NAME_BYTES} bytes")
            at = segment.layout.records + i * SLOT_SIZE + NAME_OFFSET
            segment.buf[at:at + len(raw)] = raw
        return cls(segment)

    @classmethod
    def attach(cls, instance: str):
        return cls(Segment.attach(segment_name(instance, "doorbells"), KIND_TABLE, SLOT_SIZE))

    def bell(self, name: str) -> Doorbell:
        """The bell of process ``name`` (one of the names the table was created with)."""
        if name not in self.slots:
            raise ValueError(f"doorbell {name!r}: expected one of {', '.join(self.slots)}")
        if name not in self._bells:
            self._bells[name] = Doorbell(self, self.slots[name])
        return self._bells[name]

    def close(self):
        self._bells.clear()
        if self.segment is not None:
            self.segment.release()
            self.segment = None
