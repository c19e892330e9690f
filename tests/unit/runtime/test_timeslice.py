"""The scheduler time slice a process asks for (runtime/timeslice.py): set through the runner in
a real child process and read back from outside it; 0 leaves the kernel's default; a machine
without the call runs on with a warning that names the slice."""
import logging
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import timeslice
from runtime.timeslice import current_slice_us, set_slice

ROOT = Path(__file__).resolve().parents[3]
# Custom slices for SCHED_OTHER arrived in Linux 6.12; before, the kernel accepts and ignores them.
RELEASE = tuple(int(x) for x in platform.release().split(".")[:2] if x.isdigit())
SUPPORTED = platform.system() == "Linux" and platform.machine() in timeslice.SYSCALLS and RELEASE >= (6, 12)

CHILD = """
import sys, time
from runtime.agent import Agent
from runtime.runner import Runner
from runtime.timeslice import current_slice_us

class Once(Agent):
    name = "once"
    seen = None
    def do_work(self):
        self.seen = current_slice_us()
        return 1

class Stop:
    def __init__(self, runner): self.runner = runner
    def idle(self, work): self.runner.stopping = True

print(current_slice_us(), flush=True)        # before: the kernel's default
agent = Once()
runner = Runner(agent, None, slice_us=float(sys.argv[1]))
runner.idle = Stop(runner)
runner.run()
print(agent.seen, flush=True)
sys.stdin.readline()                          # stay alive while the test reads our slice
"""


def _child(slice_us: float):
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(slice_us)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    before = float(proc.stdout.readline())
    during = proc.stdout.readline().strip()
    return proc, before, None if during == "None" else float(during)


@pytest.mark.skipif(not SUPPORTED, reason=f"custom time slices need Linux 6.12+ on x86_64/aarch64 "
                                          f"(this is {platform.system()} {platform.release()} {platform.machine()})")
def test_the_runner_sets_the_slice_and_it_reads_back_from_outside():
    proc, before, during = _child(250.0)
    try:
        assert before != 250.0                       # the default differs: the test can fail
        assert during == 250.0                        # what the agent's passes run with
        assert current_slice_us(proc.pid) == 250.0    # and what the kernel reports for the process
    finally:
        proc.communicate("\n", timeout=10)
    assert proc.returncode == 0


@pytest.mark.skipif(not SUPPORTED, reason="custom time slices need Linux 6.12+ on x86_64/aarch64")
def test_another_process_of_ours_can_be_given_a_slice():
    """How bin/mm-bench gives the single-process peers the pipeline's slice (--peers-slice-us)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE)
    try:
        before = current_slice_us(proc.pid)
        assert before != 400.0
        assert set_slice(400.0, proc.pid) == 400.0
        assert current_slice_us(proc.pid) == 400.0
        assert current_slice_us() != 400.0            # ours is untouched
    finally:
        proc.communicate(b"\n", timeout=10)


@pytest.mark.skipif(current_slice_us() is None, reason="sched_getattr is not available here")
def test_zero_keeps_the_kernels_default():
    proc, before, during = _child(0.0)
    try:
        assert during == before == current_slice_us(proc.pid)
    finally:
        proc.communicate("\n", timeout=10)


def test_an_unknown_machine_runs_on_with_a_warning_naming_the_slice(monkeypatch, caplog):
    monkeypatch.setattr(timeslice.platform, "machine", lambda: "sparc64")
    with caplog.at_level(logging.WARNING, logger="runtime.timeslice"):
        assert set_slice(300.0) is None
    assert "time slice 300 us not set" in caplog.text and "sparc64" in caplog.text
    assert current_slice_us() is None


def test_a_real_time_process_is_left_alone(monkeypatch):
    """An operator who gave a process SCHED_FIFO keeps it: the slice is for SCHED_OTHER only."""
    monkeypatch.setattr(timeslice.os, "sched_getscheduler", lambda pid: os.SCHED_FIFO)
    before = current_slice_us()
    assert set_slice(300.0) is None
    assert current_slice_us() == before
