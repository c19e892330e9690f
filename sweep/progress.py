"""The sweep's progress line on stderr: runs done, failed, the rate and the time left.

    [sweep] train [##########----------]  12/24 done  1 failed  0.9 runs/s  0:00:13 left

On a terminal the line is redrawn in place; otherwise (a log file) a line is printed at most
every ``every_s`` seconds and at the end. Time left = runs still to do / the rate so far.
"""
from __future__ import annotations

import sys
import time

WIDTH = 20


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    def __init__(self, label: str, total: int, skipped: int = 0, stream=None, every_s: float = 10.0):
        self.label, self.total, self.skipped = label, total, skipped
        self.stream = stream if stream is not None else sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.every_s = every_s
        self.done = self.failed = 0
        self.t0 = time.monotonic()
        self.last_print = 0.0

    def line(self) -> str:
        finished = self.skipped + self.done
        filled = int(WIDTH * finished / self.total) if self.total else WIDTH
        elapsed = time.monotonic() - self.t0
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        todo = self.total - finished
        left = clock(todo / rate) if rate > 0 else ("0:00:00" if todo == 0 else "?")
        resumed = f" ({self.skipped} resumed)" if self.skipped else ""
        return (f"[sweep] {self.label} [{'#' * filled}{'-' * (WIDTH - filled)}] {finished:>4}/{self.total} done"
                f"{resumed}  {self.failed} failed  {rate:.2f} runs/s  {left} left")

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        self.show()

    def show(self, final: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            print("\r" + self.line(), end="\n" if final else "", file=self.stream, flush=True)
        elif final or now - self.last_print >= self.every_s:
            self.last_print = now
            print(self.line(), file=self.stream, flush=True)
