"""Python's cyclic garbage collector, moved off the hot path.

CPython collects its youngest generation after 700 net allocations, wherever they happen: in a
pass that is checking a ladder as likely as anywhere, since that is where a process allocates.
Measured in the gateway under the benchmark's market: a young collection took 150-300 us and an
older one 1.9 ms, each once every few seconds to a minute. So each process, once started:

- collects and freezes what it built at start (modules, configuration, rings: the bulk of its
  objects), so no later collection walks them again (``gc.freeze``);
- turns automatic collection off and collects in its idle time instead (``on_idle``: called
  right before the process blocks, runtime/idle.py ``before_sleep``, or after an empty pass of a
  strategy that never blocks), as often as CPython would have: the young generation every
  THRESHOLD allocations, the middle one every tenth time, the old one every hundredth;
- still collects after a pass with work once allocations reach FORCE_AFTER: a process that never
  runs out of work must not grow without bound.
"""
from __future__ import annotations

import gc

THRESHOLD = 700              # CPython's default threshold0: allocations between young collections
FORCE_AFTER = 50 * THRESHOLD  # collect even mid-burst past this many


class IdleCollector:
    def __init__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.collect()
        gc.freeze()
        gc.disable()
        self.collections = 0

    def on_idle(self) -> None:
        """A pass found no work: collect if CPython would have by now."""
        if gc.get_count()[0] >= THRESHOLD:
            self._collect()

    def after_work(self) -> None:
        """A pass found work: collect only if allocations have run far past the threshold."""
        if gc.get_count()[0] >= FORCE_AFTER:
            self._collect()

    def _collect(self) -> None:
        self.collections += 1
        gc.collect(2 if self.collections % 100 == 0 else 1 if self.collections % 10 == 0 else 0)

    def close(self) -> None:
        """Give the interpreter its collector back as it was (a runner inside a test process)."""
        gc.unfreeze()
        if self.was_enabled:
            gc.enable()
