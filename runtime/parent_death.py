"""A pipeline process dies with its supervisor: no process may trade unsupervised.

Linux delivers a chosen signal to a child when the thread that forked it exits
(``prctl(PR_SET_PDEATHSIG)``), even when the supervisor was SIGKILLed and could clean nothing
up. The setting is made by the child itself, so there is a window between fork and ``arm``
in which the supervisor may already have died: ``arm`` closes it by checking afterwards that
the parent is still the pid that started us (an orphan has been re-parented to init or to a
subreaper). The runner checks the parent again on every heartbeat, for the platforms and the
cases the signal does not cover. The kernel sends the signal when the *thread* that started the
child exits: the supervisor starts its processes from its main thread, never from a helper.

``python -m runtime.parent_death PARENT_PID -- COMMAND...`` arms the signal and then execs
COMMAND (the setting survives exec): how the embedded exchange, a program of its own, is tied
to the supervisor of a paper run.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1   # <linux/prctl.h>


def _set_parent_death_signal(sig: int) -> bool:
    """Ask the kernel for ``sig`` when our parent dies; False where prctl is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return False
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG, {int(sig)}): {os.strerror(errno)}")
    return True


def arm(parent_pid: int, sig: int = signal.SIGTERM) -> bool:
    """Have ``sig`` delivered to this process when ``parent_pid`` (our parent) dies.

    Returns False when ``parent_pid`` is no longer our parent: it died before the signal was
    armed, and the caller must close and exit at once."""
    _set_parent_death_signal(sig)
    return os.getppid() == parent_pid


def orphaned(parent_pid: int | None) -> bool:
    """True when the process that started us (``parent_pid``) is gone; one cheap syscall."""
    return parent_pid is not None and os.getppid() != parent_pid


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -m runtime.parent_death PARENT_PID -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if not arm(int(argv[0])):
        print(f"runtime.parent_death: parent pid {argv[0]} died before {argv[2]} started; not starting it",
              file=sys.stderr)
        return 1
    os.execvp(argv[2], argv[2:])
    return 1   # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
