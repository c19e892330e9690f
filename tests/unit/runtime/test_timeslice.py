"""The scheduler time slice a process asks for (runtime/timeslice.py): set through the runner in
a real child process and read back from outside it; 0 leaves the slice alone; a machine without
the call, a kernel that ignores it, a real-time process and a failing call all leave the process
running with the slice it had, and say why."""
import ctypes
import logging
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import timeslice
from runtime.timeslice import SchedAttr, current_slice_us, set_slice

ROOT = Path(__file__).resolve().parents[3]
# Tried, not guessed from the version: a kernel without custom slices reads back None.
SUPPORTED = current_slice_us() is not None
needs_slices = pytest.mark.skipif(not SUPPORTED, reason=f"no custom time slices here (Linux 6.12+ "
                                  f"on 64-bit; this is {platform.system()} {platform.release()})")

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


@needs_slices
def test_the_runner_sets_the_slice_and_it_reads_back_from_outside():
    proc, before, during = _child(250.0)
    try:
        assert before != 250.0                       # the default differs: the test can fail
        assert during == 250.0                        # what the agent's passes run with
        assert current_slice_us(proc.pid) == 250.0    # and what the kernel reports for the process
    finally:
        proc.communicate("\n", timeout=10)
    assert proc.returncode == 0


@needs_slices
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


@needs_slices
def test_zero_leaves_the_slice_alone():
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


class FakeKernel:
    """sched_getattr / sched_setattr answered from a dict: what a given kernel would do."""

    def __init__(self, policy=0, runtime_ns=1_400_000, honours=True, fails=None):
        self.policy, self.runtime_ns, self.honours, self.fails = policy, runtime_ns, honours, fails
        self.sets = []

    def __call__(self, number, pid, attr_ref, *rest):
        if self.fails is not None:
            raise self.fails
        attr = ctypes.cast(attr_ref, ctypes.POINTER(SchedAttr)).contents
        if number == timeslice._syscalls()[1]:      # sched_getattr
            attr.sched_policy, attr.sched_runtime = self.policy, self.runtime_ns
        else:
            self.sets.append((attr.sched_policy, attr.sched_nice, attr.sched_flags, attr.sched_runtime))
            if self.honours:
                self.runtime_ns = attr.sched_runtime
        return 0


@pytest.fixture
def linux64(monkeypatch):
    monkeypatch.setattr(timeslice.platform, "system", lambda: "Linux")
    monkeypatch.setattr(timeslice.platform, "machine", lambda: "x86_64")


def test_a_kernel_without_custom_slices_is_named_and_nothing_fails(linux64, monkeypatch, caplog):
    """Before 6.12 the call succeeds, is ignored, and the slice reads back as 0."""
    kernel = FakeKernel(runtime_ns=0, honours=False)
    monkeypatch.setattr(timeslice, "_syscall", kernel)
    with caplog.at_level(logging.INFO, logger="runtime.timeslice"):
        assert set_slice(300.0) is None
    assert kernel.sets and "has no custom slices" in caplog.text
    assert current_slice_us() is None                   # shown as unknown, not as "0 us"


def test_policy_and_flags_are_kept_and_only_the_slice_changes(linux64, monkeypatch):
    kernel = FakeKernel(policy=3)                         # SCHED_BATCH: a fair policy, it has a slice
    monkeypatch.setattr(timeslice, "_syscall", kernel)
    assert set_slice(300.0) == 300.0
    assert kernel.sets == [(3, 0, 0, 300_000)]


def test_a_real_time_process_is_left_alone(linux64, monkeypatch, caplog):
    """An operator who gave a process SCHED_FIFO keeps it: nothing is written."""
    kernel = FakeKernel(policy=1)
    monkeypatch.setattr(timeslice, "_syscall", kernel)
    with caplog.at_level(logging.INFO, logger="runtime.timeslice"):
        assert set_slice(300.0) is None
    assert kernel.sets == [] and "real-time policy" in caplog.text
    assert current_slice_us() is None


def test_a_failing_call_is_a_warning_never_an_exception(linux64, monkeypatch, caplog):
    monkeypatch.setattr(timeslice, "_syscall", FakeKernel(fails=OSError(1, "denied by the seccomp profile")))
    with caplog.at_level(logging.WARNING, logger="runtime.timeslice"):
        assert set_slice(300.0) is None
    assert "time slice 300 us not set" in caplog.text and "seccomp" in caplog.text
