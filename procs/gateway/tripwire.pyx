# distutils: language = c
"""The gateway's own watch on the market: a jump pulls the exposed side one hop early.

A fast cancel made by the quoter takes the ladder's path (feed -> quoter -> gateway): it can be
as fast as a ladder, never faster. The gateway reads the same market records (the ``md``
broadcast ring, a reader of its own; the feed rings the gateway as each ticker arrives, so it is
awake when the record lands) and runs the same guard (kernels/guard.pyx MoveGuard, built from the
instrument's quoter parameters) on each one; a mid that moves beyond the threshold within the
window pulls the side it exposes at once (procs/gateway/quoting.py ``trip``), one hop (the
quoter's) before the quoter's own fast cancel could arrive, and every ladder that leaves while the
trip holds (``settle_s`` after the last triggering record) goes without that side: a ladder the
quoter priced before the jump, still in flight, does not put the side back.

The two guards see the same mids; they differ in what the gateway cannot know per record:
- sigma is the quoter's, as carried by its newest ladder (``sigma[iid]``, USD/sqrt(s)): the
  sigma-scaled threshold lags by at most a ladder (0 before the first ladder: the tick threshold
  alone, ``fc_move_ticks``);
- the volatility-jump criterion (``fc_vol_jump``: sigma's jump without a move) is the quoter's
  alone; its pull takes the ladder's path;
- time is our receive clock (monotonic), not the market clock, so a stale exchange stamp cannot
  freeze the window.
A trip only removes quotes (a pull needs no approval against the position), so a trip the quoter
does not share costs at most ``settle_s`` of one side.

Records the quoter would pull on (stale or implausible by the feed's checks, a crossed book, no
price) are skipped: the quoter's PULL covers them.
"""
from libc.math cimport isfinite
cimport numpy as cnp

from kernels.guard cimport GUARD_CALM, GUARD_PULL_ASKS, GUARD_PULL_BIDS, GUARD_PULL_BOTH, MoveGuard
from shm.broadcast cimport BroadcastReader, READ_OK
from shm.records cimport MdRecord

import numpy as np

from shm import records as R
from shm.records import MD_DTYPE

cnp.import_array()

cdef unsigned short FLAG_STALE = R.MD_FLAG_STALE

PULL_BIDS, PULL_ASKS, PULL_BOTH = GUARD_PULL_BIDS, GUARD_PULL_ASKS, GUARD_PULL_BOTH


cdef inline bint usable(double price) noexcept nogil:
    return isfinite(price) and price > 0.0


cdef class Tripwire:
    """``md_ring`` a shm.broadcast.BroadcastReader of MD_DTYPE (a reader of its own), ``guards``
    one kernels.guard.MoveGuard or None (fast cancel off) per instrument id, ``md`` a one-record
    MD_DTYPE array holding the last record read. ``sigma``: per instrument id, the quoter's
    newest sigma (USD/sqrt(s)), set by the caller (``set_sigma``)."""
    cdef BroadcastReader md_ring
    cdef list guards
    cdef readonly object md
    cdef MdRecord *md_p
    cdef double[::1] sigma
    cdef readonly object sigma_array
    cdef readonly int iid, state       # of the last trip: its instrument, the guard's state
    cdef readonly long long trips, records
    # of the record that tripped last: received, published (monotonic ns), the exchange's stamp
    cdef readonly long long receive_ns, publish_ns, exchange_ns

    def __init__(self, BroadcastReader md_ring not None, guards, md):
        if not isinstance(md, cnp.ndarray) or md.dtype != MD_DTYPE or md.shape != (1,) \
                or not md.flags.c_contiguous:
            raise TypeError(f"Tripwire md: expected one contiguous {MD_DTYPE} record, got {md!r:.80}")
        self.guards = list(guards)
        for i, g in enumerate(self.guards):
            if g is not None and not isinstance(g, MoveGuard):
                raise TypeError(f"Tripwire guards[{i}]: expected a kernels.guard.MoveGuard or None, "
                                f"got {type(g).__name__}")
        self.md_ring, self.md = md_ring, md
        self.md_p = <MdRecord *>cnp.PyArray_DATA(md)
        self.sigma_array = np.zeros(max(len(self.guards), 1))
        self.sigma = self.sigma_array
        self.iid = self.state = -1
        self.trips = self.records = 0
        self.receive_ns = self.publish_ns = self.exchange_ns = 0

    def set_guard(self, int iid, guard) -> None:
        """Instrument ``iid``'s guard replaced (new parameters; None: fast cancel off): its
        window starts empty, as the quoter's does."""
        if guard is not None and not isinstance(guard, MoveGuard):
            raise TypeError(f"Tripwire.set_guard({iid}): expected a kernels.guard.MoveGuard or None, "
                            f"got {type(guard).__name__}")
        self.guards[iid] = guard

    cpdef void set_sigma(self, int iid, double sigma) noexcept:
        """The quoter's sigma (USD/sqrt(s)) for instrument ``iid``'s sigma-scaled threshold."""
        if 0 <= iid < self.sigma.shape[0]:
            self.sigma[iid] = sigma

    cpdef int holding(self, int iid) noexcept:
        """The GUARD_* state instrument ``iid``'s guard holds (GUARD_CALM without a guard)."""
        if iid < 0 or iid >= len(self.guards):
            return GUARD_CALM
        cdef object g = self.guards[iid]
        if g is None:
            return GUARD_CALM
        return (<MoveGuard>g).state

    cpdef int step(self) except -2:
        """-1: no record waiting; 0: a record read, nothing new; 1: a trip (``iid``, ``state``:
        the side(s) to pull; ``md`` holds the record that tripped it); 2: a trip settled
        (``iid``; ``state`` GUARD_CALM): the pulled side may be quoted again."""
        if self.md_ring.read_ptr(self.md_p) != READ_OK:
            return -1
        self.records += 1
        cdef unsigned int iid = self.md_p.instrument_id
        if iid >= <unsigned int>len(self.guards):
            return 0
        cdef object g = self.guards[iid]
        if g is None:
            return 0
        cdef MoveGuard guard = <MoveGuard>g
        cdef double bb = self.md_p.best_bid_price, ba = self.md_p.best_ask_price, mid
        if self.md_p.flags & FLAG_STALE:
            return 0
        if usable(bb) and usable(ba):
            if bb >= ba:
                return 0
            mid = 0.5 * (bb + ba)
        elif usable(self.md_p.mark_price):
            mid = self.md_p.mark_price
        else:
            return 0
        cdef int before = guard.state
        cdef int after = guard.update(mid, self.md_p.receive_ts_ns * 1e-9, self.sigma[iid])
        if after == GUARD_CALM:
            if before == GUARD_CALM:
                return 0
            self.iid, self.state = iid, after
            return 2
        # A trip: calm -> a side, or one side -> both; a pull in force refreshed is not news.
        if after == before or before == GUARD_PULL_BOTH:
            return 0
        self.iid, self.state = iid, after
        self.receive_ns, self.publish_ns = self.md_p.receive_ts_ns, self.md_p.publish_ts_ns
        self.exchange_ns = self.md_p.exchange_ts_ns
        self.trips += 1
        return 1
