"""Market data that lies: is a decoded record plausible against our clock and the last good data?

The decoder (venue/decode) rejects what a frame alone shows to be wrong. A well-formed record can
still lie, and only state tells: per instrument this remembers the newest exchange time accepted
(per record type) and the last good mark. :meth:`MdPlausibility.check_md` returns

- CLOCK_AHEAD   the exchange time is more than ``max_clock_skew_s`` ahead of our wall clock;
- TOO_OLD       it is more than ``max_data_age_s`` behind it;
- OUT_OF_ORDER  it is older than the newest record of its type already accepted for the
                instrument (an equal time is fine: Thalex moves the mark about once a second);
- OFF_BAND      the mark is more than ``index_band_bps`` from its own index, or more than
                ``price_band_bps`` from the last good mark, or the best bid or ask more than
                ``price_band_bps`` from the mark (a book or index record: its prices against the
                last good mark, the index with ``index_band_bps``);

or, when the record may be published, PLAUSIBLE, GOOD_AGAIN (the first after refusals; their
number is ``episode_refused``) or REANCHORED. A market that really moved beyond the band keeps
sending records that agree with themselves (mark near its index, book near its mark): after
``reanchor_after_s`` of nothing but those the new level is accepted (REANCHORED).
:meth:`check_trade` applies the clock and the band (against the last good mark) to a public trade.

Times: exchange and wall clock in Unix ns, ``mono_ns`` from ``time.monotonic_ns()``; prices USD;
bands in basis points. Refusals are counted per reason in ``counts`` and per instrument since
its last good record in ``refused``. No logging here: procs/md_checks.py says what happened.
"""
from libc.math cimport NAN, fabs
cimport numpy as cnp

from shm.records cimport MdRecord, TradeRecord

import numpy as np

from shm import records as R

cnp.import_array()

PLAUSIBLE, CLOCK_AHEAD, TOO_OLD, OUT_OF_ORDER, OFF_BAND, GOOD_AGAIN, REANCHORED = 0, 1, 2, 3, 4, 5, 6
N_REASONS = 5          # the length of ``counts``: indexed by reason (``counts[0]`` stays 0)
N_TYPES = 8            # record type ids are small (shm.records MD_*)
cdef int MD_SIZE = R.MD_DTYPE.itemsize, TRADE_SIZE = R.TRADE_DTYPE.itemsize
cdef unsigned short T_TICKER = R.MD_TICKER


cdef const void *_record(object arr, int size, str what) except NULL:
    if not isinstance(arr, cnp.ndarray) or cnp.PyArray_ITEMSIZE(arr) != size \
            or not cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_SIZE(arr) < 1:
        raise TypeError(f"{what}: expected a C-contiguous record array of {size}-byte records, "
                        f"got {type(arr).__name__} {getattr(arr, 'dtype', '')}")
    return cnp.PyArray_DATA(arr)


cdef inline bint beyond(double price, double ref, double band) noexcept nogil:
    # False when either is NaN (an empty book side, no good mark yet): nothing to compare
    return fabs(price - ref) > band * ref


cdef class MdPlausibility:
    def __init__(self, int n_instruments, double max_clock_skew_s, double max_data_age_s,
                 double price_band_bps, double index_band_bps, double reanchor_after_s):
        if n_instruments < 1:
            raise ValueError(f"n_instruments={n_instruments}: must be >= 1")
        if not (max_clock_skew_s > 0 and max_data_age_s > 0 and reanchor_after_s > 0):
            raise ValueError(f"max_clock_skew_s={max_clock_skew_s}, max_data_age_s={max_data_age_s}, "
                             f"reanchor_after_s={reanchor_after_s}: must be > 0 seconds")
        if not (price_band_bps > 0 and index_band_bps > 0):
            raise ValueError(f"price_band_bps={price_band_bps}, index_band_bps={index_band_bps}: "
                             "must be > 0 basis points")
        self.n_instruments = n_instruments
        self.ahead_ns = <long long>(max_clock_skew_s * 1e9)
        self.behind_ns = <long long>(max_data_age_s * 1e9)
        self.reanchor_ns = <long long>(reanchor_after_s * 1e9)
        self.band, self.index_band = price_band_bps * 1e-4, index_band_bps * 1e-4
        self._newest = np.zeros((n_instruments, N_TYPES), dtype=np.int64)
        self.good_mark = np.full(n_instruments, np.nan)
        self._off_since = np.zeros(n_instruments, dtype=np.int64)
        self.refused = np.zeros(n_instruments, dtype=np.int64)
        self.counts = np.zeros(N_REASONS, dtype=np.int64)
        self.episode_refused = 0

    cpdef int check_md(self, object md, long long wall_ns, long long mono_ns) except -1:
        """PLAUSIBLE, GOOD_AGAIN or REANCHORED if ``md[0]`` (MD_DTYPE) may be published, else the reason."""
        return self.check_md_c(<const MdRecord *>_record(md, MD_SIZE, "md"), wall_ns, mono_ns)

    cdef int check_md_c(self, const MdRecord *r, long long wall_ns, long long mono_ns) noexcept:
        cdef unsigned int iid = r.instrument_id
        cdef long long ts = r.exchange_ts_ns
        cdef int reason = PLAUSIBLE, accepted = PLAUSIBLE
        cdef double good, mark = r.mark_price, band = self.band
        if iid >= <unsigned int>self.n_instruments:
            return PLAUSIBLE                   # not ours to judge (the quoter ignores it too)
        good = self.good_mark[iid]
        if ts - wall_ns > self.ahead_ns:
            reason = CLOCK_AHEAD
        elif wall_ns - ts > self.behind_ns:
            reason = TOO_OLD
        elif r.type < N_TYPES and ts < self._newest[iid, r.type]:
            reason = OUT_OF_ORDER
        elif mark == mark:                     # a ticker: the mark against its index and its book
            if beyond(mark, r.index_price, self.index_band) \
                    or beyond(r.best_bid_price, mark, band) or beyond(r.best_ask_price, mark, band):
                reason = OFF_BAND
            elif beyond(mark, good, band):
                if self._off_since[iid] == 0:
                    self._off_since[iid] = mono_ns if mono_ns != 0 else 1
                    reason = OFF_BAND
                elif mono_ns - self._off_since[iid] < self.reanchor_ns:
                    reason = OFF_BAND
                else:
                    accepted = REANCHORED
        elif beyond(r.best_bid_price, good, band) or beyond(r.best_ask_price, good, band) \
                or beyond(r.index_price, good, self.index_band):
            reason = OFF_BAND                  # a book or index record against the last good mark
        if reason != PLAUSIBLE:
            self.counts[reason] += 1
            self.refused[iid] += 1
            return reason
        if r.type < N_TYPES:
            self._newest[iid, r.type] = ts
        if r.type == T_TICKER:
            self.good_mark[iid] = mark
            self._off_since[iid] = 0
        if self.refused[iid]:
            self.episode_refused = self.refused[iid]
            self.refused[iid] = 0
            if accepted == PLAUSIBLE:
                accepted = GOOD_AGAIN
        return accepted

    cpdef int check_trade(self, object trade, long long wall_ns) except -1:
        """PLAUSIBLE or the reason for a public trade (``trade[0]``, TRADE_DTYPE)."""
        cdef const TradeRecord *t = <const TradeRecord *>_record(trade, TRADE_SIZE, "trade")
        cdef int reason = PLAUSIBLE
        if t.instrument_id >= <unsigned int>self.n_instruments:
            return PLAUSIBLE
        if t.exchange_ts_ns - wall_ns > self.ahead_ns:
            reason = CLOCK_AHEAD
        elif wall_ns - t.exchange_ts_ns > self.behind_ns:
            reason = TOO_OLD
        elif beyond(t.price, self.good_mark[t.instrument_id], self.band):
            reason = OFF_BAND
        if reason != PLAUSIBLE:
            self.counts[reason] += 1
        return reason

    cpdef void forget_order(self) noexcept:
        """After a reconnect: exchange times restart from the new subscription."""
        self._newest[:, :] = 0
