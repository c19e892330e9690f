"""Latency histograms in shared memory: fixed buckets whose counts only increase (Prometheus's
histogram, so a scrape can compute any quantile over any window).

A histogram is two fields of the shared state (shm/state.py): ``<name>_hist``, one u64 count per
bucket of LATENCY_BOUNDS_NS (upper bounds, inclusive) plus one for everything above the largest,
and ``<name>_sum_ns``, the sum of every observation. One process writes each. It keeps the counts
in a Python list, so ``observe`` on the hot path costs a bisect and an add and touches no shared
memory, and copies them into the state at its heartbeat (``flush``). It starts from what the
state holds, so a restarted process goes on counting where the dead one stopped.
"""
from __future__ import annotations

from bisect import bisect_left

# 10 us .. 1 s: our md -> quote is microseconds, md -> send on a shared 2-core laptop milliseconds.
LATENCY_BOUNDS_NS = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
                     5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000,
                     1_000_000_000)
N_BUCKETS = len(LATENCY_BOUNDS_NS) + 1


class LatencyHistogram:
    """The writer's side of histogram ``name`` in a SharedState."""

    def __init__(self, state, name: str):
        self.state, self.name = state, name
        self.counts = [int(c) for c in state.table[f"{name}_hist"][0]]
        self.sum_ns = float(state.table[f"{name}_sum_ns"][0])

    def observe(self, ns: int) -> None:
        """One latency of ``ns`` nanoseconds (a negative one, a clock oddity, counts as 0)."""
        self.counts[bisect_left(LATENCY_BOUNDS_NS, ns)] += 1
        self.sum_ns += ns if ns > 0 else 0

    def flush(self) -> None:
        """Copy the counts into shared memory (the writer's heartbeat; never on the hot path)."""
        self.state.table[f"{self.name}_hist"][0] = self.counts
        self.state.table[f"{self.name}_sum_ns"] = self.sum_ns


def cumulative_seconds(counts, sum_ns: float) -> tuple[list[tuple[str, int]], float]:
    """Prometheus buckets [(le in seconds as text, cumulative count), ..., ("+Inf", total)] and
    the sum in seconds, from the per-bucket counts of a histogram field."""
    out, total = [], 0
    for bound, count in zip((*LATENCY_BOUNDS_NS, None), counts):
        total += int(count)
        out.append(("+Inf" if bound is None else repr(bound / 1e9), total))
    return out, sum_ns / 1e9


def quantile_ns(counts, q: float) -> float:
    """The ``q`` quantile (0..1) of a histogram's per-bucket counts, in ns, interpolated linearly
    inside its bucket as Prometheus's histogram_quantile does (the first bucket from 0; the
    overflow bucket answers the largest bound). NaN when nothing was observed."""
    total = sum(int(c) for c in counts)
    if total == 0:
        return float("nan")
    rank, seen, lower = q * total, 0, 0
    for bound, count in zip(LATENCY_BOUNDS_NS, counts):
        count = int(count)
        if count and seen + count >= rank:
            return lower + (bound - lower) * (rank - seen) / count
        seen, lower = seen + count, bound
    return float(LATENCY_BOUNDS_NS[-1])
