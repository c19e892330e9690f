"""Ring a consumer's doorbell, and hand it the core when it shares ours.

A producer pinned to the same CPU as its consumer (the latency path on a small machine: feed ->
quoter -> gateway on one core) steps off the CPU for a moment right after ringing: the consumer
runs now, before the rest of the producer's pass (its other rings, the next frames of a burst),
not after it. Why a 1 us sleep and not sched_yield: on EEVDF (Linux >= 6.6) a yield only pushes
the yielder's deadline back, and a just-woken consumer that is not yet eligible still waits
behind it; leaving the run queue lets the scheduler pick the consumer. Measured on the 2-core VM,
12 market jumps each: the gateway picked a fast cancel up 111-160 us after the quoter published
it with the sleep, 316-333 us with a yield (and about 0.5 ms with a plain ring while the quoter
finished its pass). On separate cores, unpinned, or with a consumer that busy-spins, a ring is
only a ring.
"""
from __future__ import annotations

import time

HANDOFF_NAP_S = 1e-6   # leaving the run queue for a moment is what makes the consumer run next
# A prewoken gateway looks for the ladder this long (s) before it sleeps again: the quoter's hop is
# ~150-300 us on the VM; at 50 market records a second this costs ~2.5 % of a core.
PREWAKE_SPIN_S = 500e-6
PREWAKERS = {"feed": "gateway"}   # who rings whom one hop early (procs/feed.py)
# Who, sharing a core with its consumer, waits for the consumer's pass after ringing it (the
# consumer rings the waiter's own bell when its pass is done): the feed for the quoter.
HANDBACKS = {"feed": "quoter"}
# The longest a producer waits for that hand-back (s): the quoter's pass is ~50-250 us; a dead or
# stuck consumer costs each record at most this.
HANDBACK_TIMEOUT_S = 1e-3


def shares_core(settings: dict, producer: str, consumer: str) -> bool:
    """Are ``producer`` and ``consumer`` pinned to the same CPU, the consumer sleeping on its
    bell when idle (``backoff``: the one strategy a ring wakes)?"""
    runtime = settings.get("process_runtime", {})
    mine, theirs = runtime.get(producer, {}), runtime.get(consumer, {})
    cpu = mine.get("cpu", -1)
    return cpu >= 0 and cpu == theirs.get("cpu", -1) and theirs.get("idle", "backoff") == "backoff"


def prewakes(settings: dict, producer: str, consumer: str) -> bool:
    """Should ``producer`` ring ``consumer`` ahead of its work, one hop early? When the consumer
    sleeps on its bell on a core of its own (pinned elsewhere, idle ``backoff``), a ring as the ticker frame
    arrives, before it is decoded, wakes it while the feed decodes and the quoter computes the
    ladder: a woken process spins a while before it sleeps again (runtime/idle.py Backoff), so the
    ladder finds it awake, and the cross-core wake-up (100-150 us from an idle core on the VM) is
    off the path."""
    runtime = settings.get("process_runtime", {})
    mine, theirs = runtime.get(producer, {}), runtime.get(consumer, {})
    cpu, other = mine.get("cpu", -1), theirs.get("cpu", -1)
    return cpu >= 0 and other >= 0 and cpu != other and theirs.get("idle", "backoff") == "backoff"


def hands_back(settings: dict, producer: str, consumer: str) -> bool:
    """Does ``producer`` wait for ``consumer``'s pass after ringing it (HANDBACKS), the two
    sharing a core? Measured on the 2-core VM (feed -> quoter, 20 s runs): after its ring the feed
    went on with the rest of its frame, its socket loop and its staleness check (~20 us) before it
    blocked and the quoter could run; the quoter started its pass 60-75 us after the market
    record was published (p50). Waiting on its own bell right after the ring hands the core over
    at once; the feed's bookkeeping runs after the ladder is out."""
    return HANDBACKS.get(producer) == consumer and shares_core(settings, producer, consumer)


def ring_and_wait(ring, own_bell, timeout_s: float = HANDBACK_TIMEOUT_S):
    """``ring`` the consumer, then sleep on ``own_bell`` until the consumer rings it back (its pass
    is done) or ``timeout_s`` passed. The bell's count is read before the ring, so a hand-back
    that comes before the wait starts is not lost."""
    armed, wait = own_bell.armed, own_bell.wait

    def ring_then_wait() -> None:
        seen = armed()
        ring()
        wait(seen, timeout_s)
    return ring_then_wait


def handoff(ring, same_core: bool):
    """``ring`` itself, or ring-then-step-aside when the consumer shares our core."""
    if not same_core:
        return ring
    nap = time.sleep

    def ring_and_step_aside() -> None:
        ring()
        nap(HANDOFF_NAP_S)
    return ring_and_step_aside
