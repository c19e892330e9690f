"""A short scheduler time slice for the processes on the latency path, asked of the kernel.

Linux's fair scheduler (EEVDF, 6.6 and later) lets a running task finish its time slice before a
task it woke may run: the default slice here is 1.4 ms (0.7 ms x (1 + log2 CPUs)), so a gateway
woken by the quoter while the exchange client or risk holds its core could wait most of that. From
6.12 a task may ask for a shorter slice of its own (``sched_attr.sched_runtime`` with
SCHED_OTHER, 0.1-100 ms, no privilege needed), and a woken task with a shorter slice than the
running one preempts it (the PREEMPT_SHORT feature). Measured on the 2-core VM, pipeline against
one local exchange (tick to order, p50): 576 / 608 us -> 422 / 477 us in two interleaved pairs.

Where the call does not exist (not Linux, another architecture) or the kernel ignores it (before
6.12: the slice reads back unchanged), the process runs with the kernel's default and says so once:
slices are a latency preference, never a condition to run.
"""
from __future__ import annotations

import ctypes
import logging
import os
import platform

log = logging.getLogger(__name__)

# sched_setattr / sched_getattr by architecture (include/uapi/asm-generic/unistd.h and x86's table).
SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275), "arm64": (274, 275)}
SCHED_OTHER = 0
MIN_SLICE_US, MAX_SLICE_US = 100.0, 100_000.0    # the kernel clamps to this range


class SchedAttr(ctypes.Structure):
    """struct sched_attr (include/uapi/linux/sched/types.h), times in ns."""
    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32),
                ("sched_flags", ctypes.c_uint64), ("sched_nice", ctypes.c_int32),
                ("sched_priority", ctypes.c_uint32), ("sched_runtime", ctypes.c_uint64),
                ("sched_deadline", ctypes.c_uint64), ("sched_period", ctypes.c_uint64),
                ("sched_util_min", ctypes.c_uint32), ("sched_util_max", ctypes.c_uint32)]


def _syscalls() -> tuple[int, int] | None:
    return SYSCALLS.get(platform.machine()) if os.name == "posix" and platform.system() == "Linux" else None


def current_slice_us(pid: int = 0) -> float | None:
    """The time slice of ``pid`` (0: this process) in us, or None where it cannot be read."""
    calls = _syscalls()
    if calls is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = SchedAttr()
    if libc.syscall(calls[1], pid, ctypes.byref(attr), ctypes.sizeof(SchedAttr), 0) != 0:
        return None
    return attr.sched_runtime / 1000.0


def set_slice(slice_us: float, pid: int = 0) -> float | None:
    """Ask for a ``slice_us`` time slice (us, 0 = leave the kernel's default) for process ``pid``
    (0: this one; another needs the same user), keeping its nice value; returns the slice in force
    afterwards (us), or None when it could not be set. Only SCHED_OTHER processes are touched: a
    real-time policy set by the operator stays."""
    if not slice_us:
        return None
    calls = _syscalls()
    if calls is None:
        log.warning("time slice %.0f us not set: sched_setattr is unknown on %s %s; running with the "
                    "kernel's default", slice_us, platform.system(), platform.machine())
        return None
    if os.sched_getscheduler(pid) != SCHED_OTHER:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = SchedAttr(size=ctypes.sizeof(SchedAttr), sched_policy=SCHED_OTHER,
                     sched_nice=os.getpriority(os.PRIO_PROCESS, pid), sched_runtime=int(slice_us * 1000))
    if libc.syscall(calls[0], pid, ctypes.byref(attr), 0) != 0:
        err = ctypes.get_errno()
        log.warning("time slice %.0f us not set (%s); running with the kernel's default",
                    slice_us, os.strerror(err))
        return None
    got = current_slice_us(pid)
    if got is None or abs(got - slice_us) > 1.0:
        log.warning("time slice %.0f us asked, the kernel keeps %s us (custom slices need Linux 6.12 "
                    "or later); running with the kernel's default", slice_us,
                    "an unknown" if got is None else f"{got:.0f}")
        return None
    return got
