"""The run directory a backtest writes: the live recorder's CSV files (procs/recorder.py HEADERS,
so bin/mm-report reads it unchanged) plus summary.json.

Differences from a live run, by design: ``time_ns`` is the simulated clock (Unix ns of the data),
not time.monotonic_ns(); orders.csv holds our order actions (event insert, amend, cancel) at
the local time they were sent, and the exchange's answers (ack, amended, cancelled, reject,
fill) at the local time they reached us; fills.csv ``time_ns`` is the
exchange's time of the fill. md.csv holds the local top of book at most every 100 ms. quotes.csv
leaves ``latency_ns`` empty: a quote step takes no simulated time, so there is nothing to measure
(bin/mm-report then leaves md -> quote out rather than print 0 us).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from procs.recorder import HEADERS

FILES = ("md", "trades", "quotes", "fills", "orders", "pnl", "latency", "markout", "counters")


class RunWriter:
    def __init__(self, out: Path, settings: dict):
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files, self.w = {}, {}
        for name in FILES:
            f = open(self.dir / f"{name}.csv", "w", newline="", buffering=1 << 16)
            self.files[name], self.w[name] = f, csv.writer(f, lineterminator="\n")
            self.w[name].writerow(HEADERS[name])
        (self.dir / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
        (self.dir / "clock.json").write_text(json.dumps({"monotonic_ns": 0, "unix_ns": 0}))

    def row(self, name: str, values) -> None:
        self.w[name].writerow(values)

    def text(self, name: str, data: bytes) -> None:
        """Rows already formatted (the core's orders.csv, quotes.csv and md.csv text, ASCII):
        straight to the file's bytes, after what the text layer holds (the header)."""
        f = self.files[name]
        f.flush()
        f.buffer.write(data)

    def close(self, summary: dict) -> None:
        for f in self.files.values():
            f.close()
        (self.dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
