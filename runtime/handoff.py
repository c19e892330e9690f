"""Ring a consumer's doorbell, and hand it the core when it shares ours.

A producer pinned to the same CPU as its consumer (the latency path on a small machine: feed ->
quoter -> gateway on one core) yields right after ringing: the consumer runs now, before the rest
of the producer's pass (its log lines, its other rings, the next frames of a burst), not after
it. Measured on the 2-core VM during a market jump, the gateway picked a fast cancel up about
0.5 ms after the quoter published it while the quoter and the feed finished their passes. On
separate cores, unpinned, or with a consumer that busy-spins, a ring is only a ring.
"""
from __future__ import annotations

import os


def shares_core(settings: dict, producer: str, consumer: str) -> bool:
    """Are ``producer`` and ``consumer`` pinned to the same CPU, the consumer sleeping when idle?"""
    runtime = settings.get("process_runtime", {})
    mine, theirs = runtime.get(producer, {}), runtime.get(consumer, {})
    cpu = mine.get("cpu", -1)
    return cpu >= 0 and cpu == theirs.get("cpu", -1) and theirs.get("idle") != "busy-spin"


def handoff(ring, same_core: bool):
    """``ring`` itself, or ring-then-yield when the consumer shares our core."""
    if not same_core:
        return ring
    yield_core = os.sched_yield

    def ring_and_yield() -> None:
        ring()
        yield_core()
    return ring_and_yield
