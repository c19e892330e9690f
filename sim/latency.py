"""Tick-to-order latency probe for the pipeline benchmark.

Each ticker frame sent is remembered by the label a client would put on an order reacting to it,
``"tt" + str(round(mark_timestamp * 1e6))``, with the monotonic time it went out (the first send
if several connections got it), read right before the frame is written: a client woken inside
that write can preempt the exchange on a shared core, and a stamp read after the write would not
count what the client did meanwhile. When an insert/amend/mass_quote arrives carrying that label, the
gap is one sample in ns. Only the first order per ticker counts: a ladder of ten inserts reacting
to one tick is one tick-to-order figure, not ten.
"""
from __future__ import annotations

from collections import OrderedDict

MAX_REMEMBERED = 20_000
MAX_SAMPLES = 1_000_000


def label_for(mark_timestamp: float) -> str:
    return "tt" + str(round(mark_timestamp * 1e6))


class LatencyProbe:
    def __init__(self):
        self.sent_ns: OrderedDict[str, int] = OrderedDict()
        self.samples_ns: list[int] = []

    def ticker_sent(self, label: str, now_ns: int) -> None:
        if label in self.sent_ns:
            return
        self.sent_ns[label] = now_ns
        if len(self.sent_ns) > MAX_REMEMBERED:
            self.sent_ns.popitem(last=False)

    def order_arrived(self, label, arrived_ns: int) -> None:
        if not isinstance(label, str) or not label.startswith("tt"):
            return
        sent = self.sent_ns.pop(label, None)
        if sent is not None and len(self.samples_ns) < MAX_SAMPLES:
            self.samples_ns.append(arrived_ns - sent)
