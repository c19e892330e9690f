"""Counting and logging of frames we could not use, without flooding the log.

A hostile or broken peer can send thousands of bad frames a second; every one is counted per
reason, but only the first ``first`` of each reason and then every ``every``-th are logged.
"""
from __future__ import annotations

import logging
from collections import Counter


class RejectLog:
    """Per-reason counts (``counts[reason]``) and a throttled warning naming channel and reason."""

    def __init__(self, logger: logging.Logger, first: int = 10, every: int = 1000):
        self.log = logger
        self.first = first
        self.every = every
        self.counts: Counter[str] = Counter()

    def reject(self, reason: str, channel: str | None = None, detail: str = "") -> None:
        n = self.counts[reason] + 1
        self.counts[reason] = n
        if n <= self.first or n % self.every == 0:
            where = f"channel {channel!r}" if channel else "no channel"
            extra = f": {detail}" if detail else ""
            self.log.warning("frame rejected (%s, %s, #%d of this reason)%s", reason, where, n, extra)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
