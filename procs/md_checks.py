"""Market data that lies: the feed's plausibility checks, and what it says about them.

kernels/plausibility.pyx judges each decoded record against our clock and the last good data
(clock skew and age, order, the plausibility band against the index and the last good mark;
the rules are described there) in well under a microsecond. This wraps it for the feed: the
instruments' names, the configuration, and the log.

Logging says what matters once: within an episode (refusals between two good records of an
instrument) the first refusal of each reason is logged with its numbers, and when good data
returns, how many records were refused. Per reason, only the first ten episodes and then every
hundredth are logged, so a peer that alternates good and bad records cannot flood the log.
A re-anchoring (the market really moved beyond the band) is always logged.
"""
from __future__ import annotations

import logging
import struct

import numpy as np

from kernels.plausibility import (CLOCK_AHEAD, GOOD_AGAIN, OFF_BAND, OUT_OF_ORDER, PLAUSIBLE,
                                  REANCHORED, TOO_OLD, MdPlausibility)
from shm.records import MD_DTYPE
from shm.state import MD_REFUSED_NAMES

log = logging.getLogger("feed")

OK = PLAUSIBLE
REASON_NAMES = ("ok",) + MD_REFUSED_NAMES   # by reason code; the state's md_refused in this order
assert (CLOCK_AHEAD, TOO_OLD, OUT_OF_ORDER, OFF_BAND) == (1, 2, 3, 4)
LOG_FIRST, LOG_EVERY = 10, 100   # episodes logged per reason: the first ten, then every hundredth

# The fields a refusal's log line shows (the slow path only).
_MD_VIEW = struct.Struct("<H2xI8xq8xd8xd8xdd")
_MD_VIEW_FIELDS = ("type", "instrument_id", "exchange_ts_ns", "best_bid_price", "best_ask_price",
                   "mark_price", "index_price")


def _check_view(view: struct.Struct, dtype: np.dtype, names: tuple) -> None:
    """A layout change must fail here, at import, not read the wrong bytes."""
    rec = np.zeros(1, dtype)
    for i, name in enumerate(names):
        rec[name] = i + 1
    if view.unpack_from(rec) != tuple(range(1, len(names) + 1)):
        raise AssertionError(f"procs/md_checks.py: the view of {names} no longer matches {dtype}")


_check_view(_MD_VIEW, MD_DTYPE, _MD_VIEW_FIELDS)


class MdChecks:
    """The plausibility kernel for ``names`` (instruments by id) with the feed's logging."""

    def __init__(self, names: list[str], max_clock_skew_s: float, max_data_age_s: float,
                 price_band_bps: float, index_band_bps: float, reanchor_after_s: float):
        self.names = list(names)
        self.kernel = MdPlausibility(len(names), max_clock_skew_s, max_data_age_s, price_band_bps,
                                     index_band_bps, reanchor_after_s)
        self._check = self.kernel.check_md
        self.refused = self.kernel.refused        # [instrument] refused since its last good record
        self.good_mark = self.kernel.good_mark
        self.last_reason = [OK] * len(names)
        self.episodes = [0] * len(REASON_NAMES)   # per reason: episodes it appeared in
        self._seen = [0] * len(names)             # reasons (bits) seen in the current episode
        self._logged = [False] * len(names)       # something of the current episode was logged
        self._trade_logged = [0] * len(REASON_NAMES)

    @classmethod
    def from_config(cls, names: list[str], feed) -> "MdChecks":
        """From the ``[feed]`` section (conf.schema.Feed), the one owner of these numbers."""
        return cls(names, feed.max_clock_skew_s, feed.max_data_age_s, feed.price_band_bps,
                   feed.index_band_bps, feed.reanchor_after_s)

    @property
    def counts(self) -> list[int]:
        """Refusals by reason code (index 0 unused)."""
        return [int(c) for c in self.kernel.counts]

    def check_md(self, md: np.ndarray, wall_ns: int, mono_ns: int) -> int:
        """OK if ``md[0]`` (MD_DTYPE) may be published, else the reason (counted and logged)."""
        r = self._check(md, wall_ns, mono_ns)
        if r == PLAUSIBLE:
            return OK
        return self._after(r, md, wall_ns)

    def check_trade(self, trade: np.ndarray, wall_ns: int) -> int:
        """OK if public trade ``trade[0]`` (TRADE_DTYPE) is plausible, else the reason."""
        r = self.kernel.check_trade(trade, wall_ns)
        if r != OK:
            self._trade_logged[r] += 1
            if self._trade_logged[r] <= LOG_FIRST:
                t = trade[0]
                log.warning("public trade refused (%s): price %.8g, exchange time %.6f, ours %.6f",
                            REASON_NAMES[r], t["price"], t["exchange_ts_ns"] / 1e9, wall_ns / 1e9)
        return r

    def forget_order(self) -> None:
        """After a reconnect: the exchange times restart from the new subscription."""
        self.kernel.forget_order()

    # ---- the slow path: what to say -----------------------------------------------------------
    def _after(self, r: int, md: np.ndarray, wall_ns: int) -> int:
        kind, iid, ts, bid, ask, mark, index = _MD_VIEW.unpack_from(md)
        name = self.names[iid]
        if r == GOOD_AGAIN or r == REANCHORED:
            if r == REANCHORED:
                log.warning("%s: the mark stayed beyond the band from the last good one for the "
                            "re-anchoring time, consistent with its index and book: %.8g is the "
                            "new level", name, mark)
            if self._logged[iid]:
                log.info("%s: market data plausible again after %d refused record(s)", name,
                         self.kernel.episode_refused)
            self._seen[iid] = 0
            self._logged[iid] = False
            self.last_reason[iid] = OK
            return OK
        self.last_reason[iid] = r
        if not self._seen[iid] & (1 << r):
            self._seen[iid] |= 1 << r
            self.episodes[r] += 1
            n = self.episodes[r]
            if n <= LOG_FIRST or n % LOG_EVERY == 0:
                self._logged[iid] = True
                good = self.good_mark[iid]
                if r == OFF_BAND:
                    detail = (f"mark {mark:.8g}, index {index:.8g}, bid {bid:.8g}, ask {ask:.8g}, "
                              f"last good mark {good:.8g}")
                else:
                    detail = f"exchange time {ts / 1e9:.6f}, ours {wall_ns / 1e9:.6f}"
                log.warning("%s: market data refused (%s: %s; episode #%d of this reason); quoting "
                            "goes on from the last good data and stops if nothing plausible arrives",
                            name, REASON_NAMES[r], detail, n)
        return r
