# distutils: language = c
"""The quoter's latency path in C: the next market record from the md ring through its
instrument's engine and, when the engine has news, the ladder into the quotes ring, stamped
(sequence, created time) and the gateway's bell rung. Nothing Python runs between the read and the
ring; procs/quoter.py does its bookkeeping (counts, quote_log, a full ring's retry, the md -> quote
histogram) after the ladder is out.

Why: the same steps in Python (a ring read through its checked ``read_into``, NumPy field reads
and writes, the checked ``quote`` and ``write``) cost ~20 us of a ~45 us pass run cold, as a pass
after 20 ms of sleep runs; here they are a few pointer moves around ``QuoteEngine.quote_c``.
"""
from libc.stdint cimport uint64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
cimport numpy as cnp

from kernels.quote cimport QuoteEngine
from shm.broadcast cimport BroadcastReader, READ_OK
from shm.doorbell cimport Doorbell
from shm.one_to_one cimport OneToOneRing, RING_FULL
from shm.records cimport MdRecord, QuoteSet

from shm.records import MD_DTYPE, QUOTE_DTYPE

cnp.import_array()


cdef inline long long monotonic_ns() noexcept nogil:
    # time.monotonic_ns()'s clock: the stamps are compared with the feed's and the gateway's
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000000000LL + ts.tv_nsec


cdef class QuotePass:
    """One step per market record (``step``). ``md_ring`` a shm.broadcast.BroadcastReader of
    MD_DTYPE, ``quotes`` the shm.one_to_one.OneToOneRing the gateway reads, ``bell`` the gateway's
    shm.doorbell.Doorbell (rung after each ladder written when ``ring_bell``; the caller rings
    itself otherwise, e.g. to hand the core over), ``engines`` one kernels.quote.QuoteEngine per
    instrument id, ``positions`` the contracts held per instrument id (a float64 view of the
    shared state, read at each record), ``md`` / ``out`` one-record MD_DTYPE / QUOTE_DTYPE arrays
    holding the last record read and the last ladder made."""
    cdef BroadcastReader md_ring
    cdef OneToOneRing quotes
    cdef Doorbell bell
    cdef list engines
    cdef double[::1] positions
    cdef readonly object md, out
    cdef MdRecord *md_p
    cdef QuoteSet *out_p
    cdef public uint64_t seq         # of the last ladder made (QuoteSet.seq)
    cdef public bint ring_bell
    cdef readonly int iid, status    # of the last record quoted: its instrument, the engine's answer
    cdef readonly bint full          # the last ladder found the quotes ring full (not written)

    def __init__(self, BroadcastReader md_ring not None, OneToOneRing quotes not None,
                 Doorbell bell not None, engines, positions, md, out, bint ring_bell=True):
        for name, arr, dtype in (("md", md, MD_DTYPE), ("out", out, QUOTE_DTYPE)):
            if not isinstance(arr, cnp.ndarray) or arr.dtype != dtype or arr.shape != (1,) \
                    or not arr.flags.c_contiguous:
                raise TypeError(f"QuotePass {name}: expected one contiguous {dtype} record, got {arr!r:.80}")
        for i, e in enumerate(engines):
            if not isinstance(e, QuoteEngine):
                raise TypeError(f"QuotePass engines[{i}]: expected a compiled kernels.quote.QuoteEngine, "
                                f"got {type(e).__name__}")
        self.md_ring, self.quotes, self.bell = md_ring, quotes, bell
        self.engines = list(engines)
        self.positions = positions
        if len(self.positions) < len(self.engines):
            raise ValueError(f"QuotePass positions: {len(self.positions)} values for "
                             f"{len(self.engines)} instruments")
        self.md, self.out = md, out
        self.md_p = <MdRecord *>cnp.PyArray_DATA(md)
        self.out_p = <QuoteSet *>cnp.PyArray_DATA(out)
        self.seq, self.ring_bell = 0, ring_bell
        self.iid = self.status = -1
        self.full = False

    cpdef int step(self) except -2:
        """-1: no record waiting; 0: a record of an instrument we do not quote; 1: a record
        quoted (``iid``, ``status``: 0 nothing new, else a ladder made, written and rung, or
        ``full``)."""
        if self.md_ring.read_ptr(self.md_p) != READ_OK:
            return -1
        cdef unsigned int iid = self.md_p.instrument_id
        if iid >= <unsigned int>len(self.engines):
            self.iid, self.status = iid, 0
            return 0
        cdef QuoteEngine engine = <QuoteEngine>self.engines[iid]
        cdef int status = engine.quote_c(self.md_p, self.positions[iid], 0.0, 0.0, self.out_p)
        self.iid, self.status, self.full = iid, status, False
        if status:
            self.seq += 1
            self.out_p.seq = self.seq
            self.out_p.created_ts_ns = monotonic_ns()
            if self.quotes.write_ptr(self.out_p) == RING_FULL:
                self.full = True
            elif self.ring_bell:
                self.bell.ring()
        return 1
