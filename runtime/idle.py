"""Idle strategies: what a process does when a pass of its work loop found nothing to do.

Chosen by name in conf/ (agrona IdleStrategy, Disruptor WaitStrategy). ``idle(work_count)``
is called after every pass; any work resets the back-off.

- ``busy-spin``: never gives the CPU away. Lowest latency (sub-microsecond wake-up), burns a whole
  core: only for a process pinned alone on an isolated core, at most one per core.
- ``yield``: ``sched_yield`` between passes. Wakes within microseconds when the core is free, still
  shows 100% CPU, and on a busy core hands it to whoever is waiting.
- ``backoff``: spin a little, then yield a little, then sleep from ``min_sleep_s`` doubling up to
  ``max_sleep_s``. Near-zero CPU when quiet, wake-up bounded by ``max_sleep_s``. The default on
  shared or small machines (a 2-core laptop or CI box). Given a doorbell (shm/doorbell.pyx) it
  sleeps on the bell instead: a producer's ring wakes it within microseconds, and
  ``max_sleep_s`` only bounds how long it waits for things that do not ring (sockets, clocks).
  ``spin_after_wake_s`` keeps it looking for that long after a ring (until it finds work).
- ``sleep``: drain, then sleep ``max_sleep_s``: a pass that found work is followed by another at
  once, the first empty one by a full period. For bulk consumers off the latency path (the
  recorder): they wake once a period, not in a burst right after each record, when the core is
  wanted by the process that has to answer that record (agrona's SleepingIdleStrategy).

``before_sleep``, when set, is called right before a strategy blocks (never inside a spin or a
prewake window): the runner collects garbage there (runtime/collector.py).
"""
from __future__ import annotations

import os
import time


class BusySpin:
    name = "busy-spin"
    before_sleep = None   # called right before the process blocks (runtime/collector.py)

    def idle(self, work_count: int) -> None:
        pass

    def reset(self) -> None:
        pass


class Yield:
    name = "yield"
    before_sleep = None   # called right before the process blocks (runtime/collector.py)

    def idle(self, work_count: int) -> None:
        if work_count <= 0:
            os.sched_yield()

    def reset(self) -> None:
        pass


class Backoff:
    name = "backoff"
    before_sleep = None   # called right before the process blocks (runtime/collector.py)

    def __init__(self, max_spins: int = 100, max_yields: int = 20,
                 min_sleep_s: float = 50e-6, max_sleep_s: float = 1e-3, doorbell=None,
                 spin_after_wake_s: float = 0.0):
        if max_spins < 0 or max_yields < 0:
            raise ValueError(f"max_spins={max_spins}, max_yields={max_yields}: must be >= 0")
        if not 0 < min_sleep_s <= max_sleep_s:
            raise ValueError(f"min_sleep_s={min_sleep_s}, max_sleep_s={max_sleep_s}: "
                             "expected 0 < min_sleep_s <= max_sleep_s")
        self.max_spins, self.max_yields = max_spins, max_yields
        self.min_sleep_s, self.max_sleep_s = min_sleep_s, max_sleep_s
        self.doorbell = doorbell
        # After a ring, keep looking for this long before backing off: a producer that rings one
        # hop early (runtime/handoff.py prewakes) finds us awake when its record comes. Work ends
        # the window: the CPU goes back to whoever else needs it (on a shared machine, the
        # exchange reading what we just sent).
        self.spin_after_wake_ns = int(spin_after_wake_s * 1e9)
        self.spin_until = 0
        self.seen = 0
        self.reset()

    def arm(self) -> None:
        """Called before each pass: remember the bell's count, so a ring during the pass is not lost."""
        if self.doorbell is not None:
            self.seen = self.doorbell.armed()

    def reset(self) -> None:
        self.spins = 0
        self.yields = 0
        self.sleep_s = self.min_sleep_s

    def idle(self, work_count: int) -> None:
        if work_count > 0:
            if self.spins or self.yields or self.sleep_s != self.min_sleep_s:
                self.reset()
            self.spin_until = 0
            return
        if self.spin_until and time.monotonic_ns() < self.spin_until:
            return
        if self.spins < self.max_spins:
            self.spins += 1
        elif self.yields < self.max_yields:
            self.yields += 1
            os.sched_yield()
        elif self.doorbell is not None:
            if self.before_sleep is not None:
                self.before_sleep()
            if self.doorbell.wait(self.seen, self.max_sleep_s) == 0:
                self.reset()          # rung: work is waiting, start eager again
                if self.spin_after_wake_ns:
                    self.spin_until = time.monotonic_ns() + self.spin_after_wake_ns
        else:
            if self.before_sleep is not None:
                self.before_sleep()
            time.sleep(self.sleep_s)
            self.sleep_s = min(self.sleep_s * 2, self.max_sleep_s)


class Sleep:
    name = "sleep"
    before_sleep = None   # called right before the process blocks (runtime/collector.py)

    def __init__(self, max_sleep_s: float = 5e-3):
        if not max_sleep_s > 0:
            raise ValueError(f"max_sleep_s={max_sleep_s}: expected a period > 0 s")
        self.max_sleep_s = max_sleep_s

    def idle(self, work_count: int) -> None:
        if work_count <= 0:
            if self.before_sleep is not None:
                self.before_sleep()
            time.sleep(self.max_sleep_s)

    def reset(self) -> None:
        pass


STRATEGIES = {cls.name: cls for cls in (BusySpin, Yield, Backoff, Sleep)}
SLEEPERS = ("backoff", "sleep")   # the strategies that block, and call before_sleep first


def make_idle(name: str, **params):
    """The strategy called ``name`` (busy-spin, yield, backoff, sleep); raises naming the choices."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"idle strategy {name!r}: expected one of {sorted(STRATEGIES)}") from None
    return cls(**params)
