"""Market data that lies: the feed's checks of decoded records against our clock and the last good data.

The decoder (venue/decode) rejects what a frame alone shows to be wrong (bad JSON, NaN or
negative prices, a crossed book, missing fields). A well-formed record can still lie, and only
state tells: per instrument the feed remembers the newest exchange time it accepted (per record
kind) and the last good mark. A record is refused, counted by reason and not published, when

- ``clock_ahead``  its exchange time is more than ``max_clock_skew_s`` ahead of our wall clock
                   (a ticker stamped far in the future once froze the fast-cancel guard);
- ``too_old``      it is more than ``max_data_age_s`` behind our wall clock;
- ``out_of_order`` it is older than the newest record of its kind already accepted for the
                   instrument (an equal time is fine: Thalex moves the mark about once a second);
- ``off_band``     its mark is more than ``index_band_bps`` from its own index, or more than
                   ``price_band_bps`` from the last good mark, or its best bid or ask (a trade's
                   price) more than ``price_band_bps`` from the mark (a 10x mark; a book far away).

A market that really moved beyond the band keeps sending records that agree with themselves
(mark near its index, book near its mark): after ``reanchor_after_s`` of nothing but those, the
new level is accepted and logged. Times: exchange and wall clock in Unix ns, ``mono_ns`` from
``time.monotonic_ns()``; prices USD; bands in basis points.

Logging says what matters once: within an episode (refusals between two good records of an
instrument) the first refusal of each reason is logged with its numbers, and when good data
returns, how many records were refused. Per reason, only the first ten episodes and then every
hundredth are logged, so a peer that alternates good and bad records cannot flood the log.
"""
from __future__ import annotations

import logging
import math
import struct

import numpy as np

from shm.records import MD_DTYPE, MD_TICKER, TRADE_DTYPE
from shm.state import MD_REFUSED_NAMES

log = logging.getLogger("feed")

OK, CLOCK_AHEAD, TOO_OLD, OUT_OF_ORDER, OFF_BAND = 0, 1, 2, 3, 4
REASON_NAMES = ("ok",) + MD_REFUSED_NAMES   # the state's md_refused counts, in this order
N_KINDS = 8                      # record type ids are small (shm.records MD_*)
LOG_FIRST, LOG_EVERY = 10, 100   # episodes logged: the first ten, then every hundredth

# The fields the checks read, unpacked in one call (about 150 ns) instead of a NumPy field each.
_MD_VIEW = struct.Struct("<H2xI8xq8xd8xd8xdd")
_MD_VIEW_FIELDS = ("type", "instrument_id", "exchange_ts_ns", "best_bid_price", "best_ask_price",
                   "mark_price", "index_price")
_TRADE_VIEW = struct.Struct("<4xI16xq8xd")
_TRADE_VIEW_FIELDS = ("instrument_id", "exchange_ts_ns", "price")


def _check_view(view: struct.Struct, dtype: np.dtype, names: tuple) -> None:
    """A layout change must fail here, at import, not read the wrong bytes."""
    rec = np.zeros(1, dtype)
    for i, name in enumerate(names):
        rec[name] = i + 1
    if view.unpack_from(rec) != tuple(range(1, len(names) + 1)):
        raise AssertionError(f"procs/md_checks.py: the view of {names} no longer matches {dtype}")


_check_view(_MD_VIEW, MD_DTYPE, _MD_VIEW_FIELDS)
_check_view(_TRADE_VIEW, TRADE_DTYPE, _TRADE_VIEW_FIELDS)


class MdChecks:
    """Per-instrument plausibility state; ``names`` are the instruments by id (for the log)."""

    def __init__(self, names: list[str], max_clock_skew_s: float, max_data_age_s: float,
                 price_band_bps: float, index_band_bps: float, reanchor_after_s: float):
        n = len(names)
        self.names = list(names)
        self.ahead_ns = int(max_clock_skew_s * 1e9)
        self.behind_ns = int(max_data_age_s * 1e9)
        self.band = price_band_bps * 1e-4
        self.index_band = index_band_bps * 1e-4
        self.reanchor_ns = int(reanchor_after_s * 1e9)
        self.newest_ns = [[0] * N_KINDS for _ in range(n)]   # [instrument][record type]
        self.good_mark = [math.nan] * n
        self.off_since_ns = [0] * n      # monotonic ns of the first self-consistent off-band record
        self.refused = [0] * n           # refused since the last good record (0: data is good)
        self.last_reason = [OK] * n
        self.counts = [0] * len(REASON_NAMES)
        self.episodes = [0] * len(REASON_NAMES)   # per reason: episodes it appeared in
        self._seen = [0] * n             # reasons (bits) seen in the instrument's current episode
        self._logged = [False] * n       # something of the current episode was logged

    # ---- the checks ----------------------------------------------------------------------------
    def check_md(self, md: np.ndarray, wall_ns: int, mono_ns: int) -> int:
        """OK if ``md[0]`` (MD_DTYPE) may be published, else the reason (counted and logged)."""
        kind, iid, ts, bid, ask, mark, index = _MD_VIEW.unpack_from(md)
        if iid >= len(self.good_mark):
            return OK                      # not ours to judge (the quoter ignores it too)
        reason = self._clock(iid, kind, ts, wall_ns)
        detail = ""
        if reason == OK:
            reason, detail = self._band(iid, kind, bid, ask, mark, index, mono_ns)
        if reason != OK:
            return self._refuse(iid, reason, detail or f"exchange time {ts / 1e9:.6f}, ours {wall_ns / 1e9:.6f}")
        if kind < N_KINDS:
            self.newest_ns[iid][kind] = ts
        if kind == MD_TICKER:
            self.good_mark[iid] = mark
        if self.refused[iid]:
            if self._logged[iid]:
                log.info("%s: market data plausible again after %d refused record(s)", self.names[iid],
                         self.refused[iid])
            self.refused[iid] = self._seen[iid] = 0
            self._logged[iid] = False
            self.last_reason[iid] = OK
        return OK

    def check_trade(self, trade: np.ndarray, wall_ns: int) -> int:
        """OK if trade record ``trade`` (a TRADE_DTYPE array's first record) is plausible."""
        iid, ts, price = _TRADE_VIEW.unpack_from(trade)
        if iid >= len(self.good_mark):
            return OK
        if ts - wall_ns > self.ahead_ns:
            reason = CLOCK_AHEAD
        elif wall_ns - ts > self.behind_ns:
            reason = TOO_OLD
        else:
            mark = self.good_mark[iid]
            if not abs(price - mark) > self.band * mark:   # also OK while no mark is known (NaN)
                return OK
            reason = OFF_BAND
        self.counts[reason] += 1
        if self.counts[reason] <= LOG_FIRST:
            log.warning("%s: public trade refused (%s): price %.8g, exchange time %.6f, ours %.6f",
                        self.names[iid], REASON_NAMES[reason], price, ts / 1e9, wall_ns / 1e9)
        return reason

    def _clock(self, iid: int, kind: int, ts: int, wall_ns: int) -> int:
        if ts - wall_ns > self.ahead_ns:
            return CLOCK_AHEAD
        if wall_ns - ts > self.behind_ns:
            return TOO_OLD
        if kind < N_KINDS and ts < self.newest_ns[iid][kind]:
            return OUT_OF_ORDER
        return OK

    def _band(self, iid: int, kind: int, bid: float, ask: float, mark: float, index: float,
              mono_ns: int) -> tuple[int, str]:
        band = self.band
        good = self.good_mark[iid]
        if mark == mark:                   # a ticker: the mark against its index and the book
            if index == index and abs(mark - index) > self.index_band * index:
                return OFF_BAND, f"mark {mark:.8g} vs its index {index:.8g}"
            if abs(bid - mark) > band * mark or abs(ask - mark) > band * mark:   # NaN side: False
                return OFF_BAND, f"book {bid:.8g} / {ask:.8g} vs its mark {mark:.8g}"
            if abs(mark - good) > band * good:                                 # NaN good: False
                since = self.off_since_ns[iid]
                if not since:
                    self.off_since_ns[iid] = mono_ns
                elif mono_ns - since >= self.reanchor_ns:
                    log.warning("%s: the mark has stayed %.0f bps from the last good one (%.8g) for "
                                "%.1fs, consistent with its index and book: accepting %.8g as the new "
                                "level", self.names[iid], abs(mark / good - 1) * 1e4, good,
                                (mono_ns - since) / 1e9, mark)
                    self.off_since_ns[iid] = 0
                    return OK, ""
                return OFF_BAND, f"mark {mark:.8g} vs the last good mark {good:.8g}"
            self.off_since_ns[iid] = 0
            return OK, ""
        # a book or index record: its prices against the last good mark (an index may differ
        # from a future's mark by the basis)
        if abs(bid - good) > band * good or abs(ask - good) > band * good:
            return OFF_BAND, f"book {bid:.8g} / {ask:.8g} vs the last good mark {good:.8g}"
        if abs(index - good) > self.index_band * good:
            return OFF_BAND, f"index {index:.8g} vs the last good mark {good:.8g}"
        return OK, ""

    def _refuse(self, iid: int, reason: int, detail: str) -> int:
        self.counts[reason] += 1
        if not self._seen[iid] & (1 << reason):
            self._seen[iid] |= 1 << reason
            self.episodes[reason] += 1
            n = self.episodes[reason]
            if n <= LOG_FIRST or n % LOG_EVERY == 0:
                self._logged[iid] = True
                log.warning("%s: market data refused (%s: %s; episode #%d of this reason); quoting "
                            "goes on from the last good data and stops if nothing plausible arrives",
                            self.names[iid], REASON_NAMES[reason], detail, n)
        self.refused[iid] += 1
        self.last_reason[iid] = reason
        return reason

    def forget_order(self) -> None:
        """After a reconnect: the exchange times restart from the new subscription's snapshot."""
        for row in self.newest_ns:
            row[:] = [0] * N_KINDS
