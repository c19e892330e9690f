"""A short scheduler time slice for the processes on the latency path, asked of the kernel.

Linux's fair scheduler (EEVDF, 6.6 and later) lets a running task go on to the end of its time
slice before a task it woke may run: the default slice is 0.7-0.75 ms x (1 + log2 CPUs, at most
8), 1.4 ms on this 2-CPU VM, so a gateway woken by the quoter while the exchange client, risk or
the recorder holds its core could wait most of that. From 6.12 a task may ask for a slice of its
own (``sched_attr.sched_runtime`` under a fair policy, 0.1-100 ms, no privilege needed), and a
woken task with a shorter slice than the running one preempts it if it is eligible (has not had
more than its share: the PREEMPT_SHORT feature). Measured on the 2-core VM against one local
exchange, four interleaved pairs (tick to order, off -> on): p50 683/650/600/674 ->
645/560/607/565 us, p99 2010/1910/1644/2214 -> 1527/1132/1149/1661 us (README, "Time slices").

The slice belongs to a thread: ``set_slice`` sets the calling thread's (the main thread of a
pipeline process, which is single-threaded); threads and children started later inherit it.
Where the call does not exist (not Linux, another architecture, a 32-bit userland), where the
kernel ignores it (before 6.12: it accepts the call and the slice reads back as 0) or where
anything fails, the process says so once and runs on with the slice it had: slices are a
latency preference, never a condition to run.
"""
from __future__ import annotations

import ctypes
import logging
import os
import platform

log = logging.getLogger(__name__)

# sched_setattr / sched_getattr by architecture (include/uapi/asm-generic/unistd.h, x86's table).
SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275), "arm64": (274, 275),
            "riscv64": (274, 275), "loongarch64": (274, 275)}
FAIR_POLICIES = (0, 3, 5)          # SCHED_OTHER, SCHED_BATCH, SCHED_IDLE: those with a slice
MIN_SLICE_US, MAX_SLICE_US = 100.0, 100_000.0    # the kernel clamps a custom slice to this range

_libc = None


class SchedAttr(ctypes.Structure):
    """struct sched_attr (include/uapi/linux/sched/types.h), times in ns."""
    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32),
                ("sched_flags", ctypes.c_uint64), ("sched_nice", ctypes.c_int32),
                ("sched_priority", ctypes.c_uint32), ("sched_runtime", ctypes.c_uint64),
                ("sched_deadline", ctypes.c_uint64), ("sched_period", ctypes.c_uint64),
                ("sched_util_min", ctypes.c_uint32), ("sched_util_max", ctypes.c_uint32)]


def _syscalls() -> tuple[int, int] | None:
    """The two syscall numbers, or None where they are unknown (the machine name is the
    kernel's: a 32-bit Python on a 64-bit kernel would call the wrong numbers, so it is refused)."""
    if platform.system() != "Linux" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    return SYSCALLS.get(platform.machine())


def _syscall(number: int, *args) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc.syscall(number, *args)


def _get_attr(pid: int) -> SchedAttr | None:
    calls = _syscalls()
    if calls is None:
        return None
    attr = SchedAttr()
    if _syscall(calls[1], pid, ctypes.byref(attr), ctypes.sizeof(SchedAttr), 0) != 0:
        return None
    return attr


def current_slice_us(pid: int = 0) -> float | None:
    """The custom-capable time slice of ``pid`` (0: the calling thread) in us; None where it
    cannot be read, for a real-time policy, or on a kernel without slices (it reports 0)."""
    attr = _get_attr(pid)
    if attr is None or attr.sched_policy not in FAIR_POLICIES or attr.sched_runtime == 0:
        return None
    return attr.sched_runtime / 1000.0


def set_slice(slice_us: float, pid: int = 0) -> float | None:
    """Ask for a ``slice_us`` time slice (us) for ``pid`` (0: the calling thread; another needs
    the same user); 0 leaves the slice as it is (inherited: normally the kernel's default).
    The policy, nice value and flags stay; a real-time or deadline policy set by the operator is
    left alone. Returns the slice in force afterwards (us), or None when it was not set (logged)."""
    if not slice_us:
        return None
    try:
        return _set_slice(slice_us, pid)
    except Exception as exc:       # a preference only: never the reason a process stops
        log.warning("time slice %.0f us not set (%s: %s); running with the slice it had",
                    slice_us, type(exc).__name__, exc)
        return None


def _set_slice(slice_us: float, pid: int) -> float | None:
    calls = _syscalls()
    if calls is None:
        log.warning("time slice %.0f us not set: sched_setattr is unknown for %s %s (%d-bit); "
                    "running with the kernel's default", slice_us, platform.system(),
                    platform.machine(), 8 * ctypes.sizeof(ctypes.c_void_p))
        return None
    attr = _get_attr(pid)
    if attr is None:
        log.warning("time slice %.0f us not set: sched_getattr failed (%s)", slice_us,
                    os.strerror(ctypes.get_errno()))
        return None
    if attr.sched_policy not in FAIR_POLICIES:
        log.info("time slice %.0f us not set: the process runs a real-time policy (%d), kept",
                 slice_us, attr.sched_policy)
        return None
    attr.size = ctypes.sizeof(SchedAttr)
    attr.sched_runtime = int(slice_us * 1000)
    if _syscall(calls[0], pid, ctypes.byref(attr), 0) != 0:
        log.warning("time slice %.0f us not set (%s); running with the slice it had",
                    slice_us, os.strerror(ctypes.get_errno()))
        return None
    got = current_slice_us(pid)
    if got is None:
        log.info("time slice %.0f us asked; this kernel (%s) has no custom slices (Linux 6.12 and "
                 "later do): running with its default", slice_us, platform.release())
        return None
    if abs(got - slice_us) > 1.0:
        log.warning("time slice %.0f us asked, the kernel gives %.0f us", slice_us, got)
    return got
