"""Where the time goes on the way from a market record to the exchange: per-hop latency figures.

One record in segment ``mm.<instance>.latency``, written by the gateway (its one writer) about
twice a second from the last 1000 ladders it sent, read by ``bin/mmctl status`` and
``bin/mm-bench pipeline``. Each ladder carries its stamps (shm.records QuoteSet: the feed's
receive and publish times, the quoter's publish time); the gateway adds when it approved it
(pre-trade checks passed) and when the message left. The hops, in ns, p50 and p99:

    feed      feed received the frame -> market record published (decode, plausibility checks)
    quoter    market record published -> ladder published (wake-up, estimators, model, ladder)
    approve   ladder published -> approved by the gateway (wake-up, pre-trade checks)
    send      approved -> the request written to the socket (encode, frame, send)
    total     feed received -> sent

kept apart for ordinary ladders and fast cancels (``ladder_*`` and ``fast_*``; ``*_count`` is how
many samples the figures come from).
"""
from __future__ import annotations

import numpy as np

from shm.descriptor import KIND_TABLE
from shm.records import describe
from shm.segment import Segment, segment_name

HOPS = ("feed", "quoter", "approve", "send", "total")
KINDS = ("ladder", "fast")
LATENCY_DTYPE = describe("HopLatency", [
    (f"{kind}_{what}", "<i8") for kind in KINDS
    for what in ("count", *(f"{hop}_{q}_ns" for hop in HOPS for q in ("p50", "p99")))
], 192)


class HopLatency:
    """The record: ``create`` (supervisor, owner) or ``attach`` (gateway writes, status reads)."""

    def __init__(self, segment: Segment):
        self.segment = segment
        self.table = np.ndarray(1, LATENCY_DTYPE, buffer=segment.buf, offset=segment.layout.records)

    @classmethod
    def create(cls, instance: str) -> "HopLatency":
        return cls(Segment.create(segment_name(instance, "latency"), KIND_TABLE, LATENCY_DTYPE.itemsize, 1))

    @classmethod
    def attach(cls, instance: str) -> "HopLatency":
        return cls(Segment.attach(segment_name(instance, "latency"), KIND_TABLE, LATENCY_DTYPE.itemsize, 1))

    def publish(self, kind: str, samples: np.ndarray) -> None:
        """``samples``: [n, len(HOPS)] ns, one row per ladder sent."""
        row = self.table[0]
        row[f"{kind}_count"] = len(samples)
        if not len(samples):
            return
        p50, p99 = np.percentile(samples, (50, 99), axis=0)
        for i, hop in enumerate(HOPS):
            row[f"{kind}_{hop}_p50_ns"] = int(p50[i])
            row[f"{kind}_{hop}_p99_ns"] = int(p99[i])

    def snapshot_us(self) -> dict:
        """{kind: {"count": n, hop: {"p50": us, "p99": us}}} for status."""
        row = self.table.copy()[0]
        return {kind: {"count": int(row[f"{kind}_count"]),
                       **{hop: {q: row[f"{kind}_{hop}_{q}_ns"] / 1e3 for q in ("p50", "p99")} for hop in HOPS}}
                for kind in KINDS}

    def close(self) -> None:
        self.table = None
        self.segment.release()
