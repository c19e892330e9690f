"""CPU pinning that degrades gracefully: a CPU this process may not use is a warning, not a crash."""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def available_cpus() -> list[int]:
    """CPUs this process may run on (respects cgroup/taskset limits), sorted."""
    return sorted(os.sched_getaffinity(0))


def pin(cpu: int | None) -> int | None:
    """Pin the calling process to ``cpu``; returns the CPU pinned to, or None if not pinned.

    ``None`` or a negative value means "do not pin". A CPU that does not exist or is outside
    this process's allowed set logs a warning and leaves the affinity unchanged.
    """
    if cpu is None or cpu < 0:
        return None
    allowed = available_cpus()
    if cpu not in allowed:
        log.warning("cannot pin pid %d to CPU %d: allowed CPUs are %s; running unpinned",
                    os.getpid(), cpu, allowed)
        return None
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:
        log.warning("cannot pin pid %d to CPU %d (%s); running unpinned", os.getpid(), cpu, exc)
        return None
    return cpu


def spread(n: int) -> list[int | None]:
    """A CPU for each of ``n`` processes, round-robin over the allowed CPUs."""
    cpus = available_cpus()
    return [cpus[i % len(cpus)] for i in range(n)] if cpus else [None] * n
