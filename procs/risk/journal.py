"""The risk process's book on disk, so a restarted risk process continues exactly.

``<run_dir>/risk_book.json``: FIFO lots, realised P&L, fees, funding, fill keys, high-water mark,
the day's opening equity, and where on the ``exec`` ring the book stands: the sequence of the
first execution it has *not* booked (``exec.seq``) and the ring's identity (``exec.ring``: owner
pid and creation time; a sequence means nothing in another incarnation of the ring).

Why nothing booked is ever lost, precisely: every save is one consistent snapshot (book and
sequence taken together between two batches) written atomically (temp file + rename). A
restarted risk process loads the snapshot and reads ``exec`` again from its sequence, so whatever
it booked after the snapshot (up to ``min_interval_s`` of it) is booked again, once, from the
ring. When the ring no longer holds that sequence (lapped, or a new ring), the gateway's replay
of the exchange's trade history covers it instead (procs/risk/reconcile.py). So the journal need
not be written as part of each booking: the ring replay covers the gap between snapshots, for
fills, fee reports and positions alike. What it does not cover: funding accrued from market data
after the last snapshot (``md`` is not replayed): at most one interval's accrual, fractions of a
cent, and marks taken for a reconciled position's difference are today's, not those of then.

A save whose data holds a non-finite number (NaN, Infinity) is refused, counted in ``refused``
and logged: the last good journal stays. A load refuses such a file as well, and a file that is
not JSON or not a risk book, with an error naming the file and what was expected; risk then
starts from an empty book and the exchange's replayed history.

Format ``FORMAT`` (3): fill keys are (exact 128-bit trade id as 32 hex digits, side). Older
journals are refused with JournalFormatError: format 1 keyed fills by 32-bit CRCs, format 2 by
the trade id alone, and neither can be matched to the keys of replayed trades exactly.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

from procs.risk.position import PositionBook

log = logging.getLogger("risk")
FORMAT = 3
OLD_FORMATS = {1: "fill keys were 32-bit CRCs of the trade ids", 2: "fill keys were trade ids without the side"}
SLOW_WRITE_FACTOR = 20   # a journal that took t to write waits at least 20 t for the next write


class JournalFormatError(RuntimeError):
    """A journal written in a format this version cannot continue from exactly."""


def _no_constant(name: str):
    raise ValueError(f"{name} in the journal: expected finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):   # 1e400 parses to inf
        raise ValueError(f"{text} in the journal: expected finite numbers only")
    return value


class Journal:
    def __init__(self, path: Path | None, min_interval_s: float = 0.2):
        self.path, self.min_interval_s = path, min_interval_s
        self.dirty = False
        self.refused = 0            # saves refused because the data held a non-finite number
        self.writes = 0
        self._last = 0.0
        self._took_s = 0.0          # how long the last write took

    def load(self) -> dict | None:
        """The saved data, or None when there is none or it cannot be trusted (logged, naming the
        file and what is wrong). JournalFormatError for an older format, whose fill keys would
        book replayed trades twice."""
        if self.path is None or not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(), parse_constant=_no_constant,
                              parse_float=_finite_float)
        except (OSError, ValueError) as exc:
            log.error("risk journal %s unreadable (%s): starting from an empty book and the "
                      "exchange's trade history", self.path, exc)
            return None
        found = data.get("format", 1) if isinstance(data, dict) else FORMAT
        if found != FORMAT:
            why = OLD_FORMATS.get(found, "an unknown format")
            raise JournalFormatError(
                f"risk journal {self.path}: format={found!r}, expected {FORMAT} (fill keys as exact "
                f"128-bit trade ids and sides; {why}); its fill keys cannot be matched to the "
                "exchange's trades, so replayed trades would be booked twice. Start a new run "
                "(bin/mm run makes a new run directory); moving the file away starts from an empty "
                "book and the exchange's whole trade history")
        book = data.get("book") if isinstance(data, dict) else None
        try:
            if not isinstance(book, dict):
                raise TypeError("no \"book\" object")
            PositionBook.from_dict(book, len(book.get("lots", [])))   # every field readable
            float(data.get("high_water", 0.0)), float(data.get("day_start_equity", 0.0))
            exec_at = data.get("exec", {})
            if not isinstance(exec_at, dict) or not isinstance(exec_at.get("seq", 0), int) \
                    or exec_at.get("seq", 0) < 0:
                raise TypeError(f"exec={exec_at!r}: expected {{\"seq\": n >= 0, \"ring\": [pid, ns]}}")
        except (TypeError, ValueError, AttributeError) as exc:
            log.error("risk journal %s is not a risk book (%s): expected {\"book\": {\"lots\": "
                      "[[price, amount], ...], \"realised\": ..., ...}, \"high_water\": ...}: "
                      "starting from an empty book and the exchange's trade history", self.path, exc)
            return None
        return data

    def save(self, data_fn, force: bool = False) -> bool:
        """Write ``data_fn()`` if changed and the interval has passed (or ``force``); True when
        written. Refused (False, counted, logged) when the data holds NaN or an infinity."""
        if self.path is None or not self.dirty:
            return False
        now = time.monotonic()
        if not force and now - self._last < max(self.min_interval_s, SLOW_WRITE_FACTOR * self._took_s):
            return False
        try:
            text = json.dumps({"format": FORMAT, **data_fn()}, allow_nan=False)
        except ValueError as exc:
            self.refused += 1
            if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
                log.error("risk journal %s NOT written (%s; refusal %d): the book holds a number "
                          "that is not finite; the last good journal stays", self.path, exc, self.refused)
            self._last = now
            return False
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)
        # A big book (every fill key) takes longer to write: it is written less often, so the
        # journal never costs more than about 1/SLOW_WRITE_FACTOR of the process (the ring replay
        # covers the longer gap; the exec ring holds thousands of records).
        self._took_s = time.monotonic() - now
        self.dirty, self._last = False, now
        self.writes += 1
        return True
