"""The risk process's book on disk, so a restarted risk process continues exactly.

``<run_dir>/risk_book.json``: FIFO lots, realised P&L, fees, funding, fill keys, high-water mark
and the day's opening equity. Written atomically (temp file + rename) at most every
``min_interval_s`` and only when something changed; a crash loses at most that much, and the
gateway's reconciliation on the exchange's figures repairs the position either way. A file
that is not JSON, or not a risk book, is refused with an error naming the file and what was
expected; risk then starts from the shared state.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from procs.risk.position import PositionBook

log = logging.getLogger("risk")


class Journal:
    def __init__(self, path: Path | None, min_interval_s: float = 0.2):
        self.path, self.min_interval_s = path, min_interval_s
        self.dirty = False
        self._last = 0.0

    def load(self) -> dict | None:
        """The saved data, or None when there is none or it cannot be trusted (logged, naming the
        file and what is wrong): risk then starts from the shared state."""
        if self.path is None or not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            log.error("risk journal %s unreadable (%s): starting from the shared state", self.path, exc)
            return None
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
        tmp.write_text(json.dumps(data_fn()))
        os.replace(tmp, self.path)
        self.dirty, self._last = False, now
