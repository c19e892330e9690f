"""The risk process's book on disk, so a restarted risk process continues exactly.

``<run_dir>/risk_book.json``: FIFO lots, realised P&L, fees, funding, fill keys, high-water mark
and the day's opening equity. Written atomically (temp file + rename) at most every
``min_interval_s`` and only when something changed; a crash loses at most that much, and the
gateway's reconciliation on the exchange's figures repairs the position either way. A file
that is not JSON, or not a risk book, is refused with an error naming the file and what was
expected; risk then starts from the shared state.

Format ``FORMAT`` (2): fill keys are exact 128-bit trade ids written as 32 hex digits. A journal
without it (format 1, keys were 32-bit CRCs of the ids) is refused with JournalFormatError: its
keys cannot be matched to exact ids, so every trade the exchange replays after a reconnect would
be booked a second time.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from procs.risk.position import PositionBook

log = logging.getLogger("risk")
FORMAT = 2


class JournalFormatError(RuntimeError):
    """A journal written in a format this version cannot continue from exactly."""


class Journal:
    def __init__(self, path: Path | None, min_interval_s: float = 0.2):
        self.path, self.min_interval_s = path, min_interval_s
        self.dirty = False
        self._last = 0.0

    def load(self) -> dict | None:
        """The saved data, or None when there is none or it cannot be trusted (logged, naming the
        file and what is wrong): risk then starts from the shared state. JournalFormatError for an
        older format, whose fill keys would book replayed trades twice."""
        if self.path is None or not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            log.error("risk journal %s unreadable (%s): starting from the shared state", self.path, exc)
            return None
        found = data.get("format", 1) if isinstance(data, dict) else FORMAT
        if found != FORMAT:
            raise JournalFormatError(
                f"risk journal {self.path}: format={found!r}, expected {FORMAT} (fill keys as exact "
                "128-bit trade ids); its fill keys cannot be matched to the exchange's trade ids, so "
                "replayed trades would be booked twice. Start a new run (bin/mm run makes a new run "
                "directory); moving the file away continues from the shared state, where trades "
                "the exchange replays are booked again")
        book = data.get("book") if isinstance(data, dict) else None
        try:
            if not isinstance(book, dict):
                raise TypeError("no \"book\" object")
            PositionBook.from_dict(book, len(book.get("lots", [])))   # every field readable
            float(data.get("high_water", 0.0)), float(data.get("day_start_equity", 0.0))
        except (TypeError, ValueError, AttributeError) as exc:
            log.error("risk journal %s is not a risk book (%s): expected {\"book\": {\"lots\": "
                      "[[price, amount], ...], \"realised\": ..., ...}, \"high_water\": ...}: "
                      "starting from the shared state", self.path, exc)
            return None
        return data

    def save(self, data_fn, force: bool = False) -> None:
        """Write ``data_fn()`` if changed and the interval has passed (or ``force``)."""
        if self.path is None or not self.dirty:
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval_s:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": FORMAT, **data_fn()}))
        os.replace(tmp, self.path)
        self.dirty, self._last = False, now
