"""Drive one agent in one OS process: pin, loop, idle, heartbeat, stop on request or signal.

The loop is ``work = agent.do_work(); idle.idle(work)``; every ``heartbeat_interval_s`` the runner
stamps the process's counters slot, so the supervisor can tell a hung process from a quiet one.
SIGTERM / SIGINT set a flag; the loop finishes its pass, calls ``on_close`` and exits 0. An
exception is counted, logged with its traceback and ends the process with exit code 1 (the
supervisor decides about restarts). With ``supervisor_pid`` set, every heartbeat also checks that
the supervisor is still our parent: an orphan closes (the gateway cancels what rests) and exits 1,
so no process trades unsupervised (runtime/parent_death.py arms the signal for the same case).
"""
from __future__ import annotations

import logging
import os
import signal
import time

from runtime.agent import Agent
from runtime.collector import IdleCollector
from runtime.idle import SLEEPERS
from runtime.pinning import pin
from runtime.timeslice import set_slice
from shm.counters import STATE_DEAD, STATE_RUNNING, STATE_STOPPED, ProcessCounters

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, agent: Agent, idle, counters: ProcessCounters | None = None,
                 cpu: int | None = None, heartbeat_interval_s: float = 0.05,
                 supervisor_pid: int | None = None, slice_us: float = 0.0,
                 collect_when_idle: bool = True):
        """``slice_us``: the scheduler time slice to ask for (runtime/timeslice.py), us; 0 leaves it.
        ``collect_when_idle``: Python's garbage collection right before the process blocks, not
        wherever it allocates (runtime/collector.py)."""
        self.agent, self.idle, self.counters = agent, idle, counters
        self.collect_when_idle = collect_when_idle
        self.cpu, self.slice_us = cpu, slice_us
        self.supervisor_pid = supervisor_pid
        self.heartbeat_interval_ns = int(heartbeat_interval_s * 1e9)
        self.stopping = False

    def request_stop(self, *_args) -> None:
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self, max_seconds: float | None = None) -> int:
        """Run until stopped; returns the process exit code."""
        pinned = pin(self.cpu)
        set_slice(self.slice_us)
        counters = self.counters
        if counters is not None:
            counters.set("cpu", -1 if pinned is None else pinned)
        try:
            self.agent.on_start()
        except Exception:
            log.exception("%s: start failed", self.agent.name)
            if counters is not None:
                counters.add("errors")
                counters.set_state(STATE_DEAD)
            self._close()
            return 1
        # Before "running": a process the supervisor sees running is past its one long collection.
        collector = IdleCollector() if self.collect_when_idle else None
        if counters is not None:
            counters.set_state(STATE_RUNNING)
            counters.beat()
        do_work, idle, clock = self.agent.do_work, self.idle.idle, time.monotonic_ns
        # An agent that waits inside do_work (on a socket) needs no idle strategy on top of it.
        if getattr(self.agent, "waits_in_work", False):
            idle = _no_idle
        # Collect when the process is about to block, not in every empty pass: an empty pass of a
        # gateway inside its prewake window is exactly when its ladder is due. A strategy that
        # never blocks (busy-spin, yield: a core of its own) collects after its empty passes.
        on_empty = None
        if collector is not None:
            if idle is not _no_idle and getattr(self.idle, "name", None) in SLEEPERS:
                self.idle.before_sleep = collector.on_idle
            else:
                on_empty = collector.on_idle
        arm = getattr(self.idle, "arm", None) if idle is not _no_idle else None
        deadline = clock() + int(max_seconds * 1e9) if max_seconds else None
        next_beat = clock() + self.heartbeat_interval_ns
        work_since_beat = 0
        code = 0
        try:
            while not self.stopping:
                if arm is not None:
                    arm()
                work = do_work()
                work_since_beat += work
                if collector is not None:
                    if work:
                        collector.after_work()
                    elif on_empty is not None:
                        on_empty()
                idle(work)
                now = clock()
                if now >= next_beat:
                    if counters is not None:
                        counters.beat()
                        counters.add("work_count", work_since_beat)
                        self.agent.report(counters)
                    work_since_beat = 0
                    next_beat = now + self.heartbeat_interval_ns
                    if deadline is not None and now >= deadline:
                        break
                    if self.supervisor_pid is not None and os.getppid() != self.supervisor_pid:
                        log.error("%s: supervisor pid %d is gone (parent is now pid %d): closing",
                                  self.agent.name, self.supervisor_pid, os.getppid())
                        code = 1
                        break
        except Exception:
            log.exception("%s: failed in do_work", self.agent.name)
            if counters is not None:
                counters.add("errors")
            code = 1
        finally:
            # Whatever ends the loop (a KeyboardInterrupt, a test's timeout too), the interpreter
            # gets its collector back and the idle strategy forgets ours.
            if collector is not None:
                collector.close()
                if getattr(self.idle, "before_sleep", None) is not None:
                    self.idle.before_sleep = None
        self._close()
        if counters is not None:
            counters.set_state(STATE_STOPPED if code == 0 else STATE_DEAD)
        return code

    def _close(self) -> None:
        try:
            self.agent.on_close()
        except Exception:
            log.exception("%s: on_close failed", self.agent.name)


def _no_idle(work_count: int) -> None:
    pass
