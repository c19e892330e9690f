"""A pipeline process dies with its supervisor: the parent-death signal and the runner's check."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.agent import Agent
from runtime.idle import make_idle
from runtime.runner import Runner

ROOT = Path(__file__).resolve().parents[3]


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


class Counting(Agent):
    name = "counting"

    def __init__(self):
        self.passes, self.closed = 0, False

    def do_work(self) -> int:
        self.passes += 1
        return 0

    def on_close(self) -> None:
        self.closed = True


def test_the_runner_closes_and_exits_when_its_supervisor_is_no_longer_its_parent():
    agent = Counting()
    runner = Runner(agent, make_idle("backoff", max_sleep_s=0.001), heartbeat_interval_s=0.01,
                    supervisor_pid=os.getppid() + 1_000_000)   # not our parent: we are an orphan
    t0 = time.monotonic()
    assert runner.run(max_seconds=5.0) == 1
    assert agent.closed and time.monotonic() - t0 < 1.0


def test_the_runner_keeps_running_while_its_supervisor_lives():
    agent = Counting()
    runner = Runner(agent, make_idle("backoff", max_sleep_s=0.001), heartbeat_interval_s=0.01,
                    supervisor_pid=os.getppid())
    assert runner.run(max_seconds=0.3) == 0
    assert agent.closed and agent.passes > 10


@pytest.mark.timeout(60)
def test_a_grandchild_armed_by_parent_death_dies_when_its_parent_is_sigkilled():
    # The middle process starts `sleep` through the wrapper, tied to itself, then waits.
    middle_code = ("import os, subprocess, sys, time;"
                   "c = subprocess.Popen([sys.executable, '-m', 'runtime.parent_death', str(os.getpid()), '--',"
                   " 'sleep', '60']); time.sleep(0.5); print(c.pid, flush=True); time.sleep(60)")
    middle = subprocess.Popen([sys.executable, "-c", middle_code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    grandchild = None
    try:
        grandchild = int(middle.stdout.readline())
        assert not gone(grandchild)
        assert Path(f"/proc/{grandchild}/cmdline").read_bytes().startswith(b"sleep\0")   # exec'd in place
        middle.kill()
        middle.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not gone(grandchild):
            time.sleep(0.02)
        assert gone(grandchild), "the grandchild outlived its SIGKILLed parent"
    finally:
        middle.kill()
        middle.wait(timeout=10)
        if grandchild is not None and not gone(grandchild):
            os.kill(grandchild, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_a_process_whose_supervisor_died_before_it_armed_does_not_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    out = subprocess.run([sys.executable, "-m", "runtime.launch", "feed", "--run-dir", str(tmp_path), "--slot", "0",
                          "--supervisor-pid", str(dead.pid)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"supervisor pid {dead.pid} died before feed started" in out.stderr
    wrapped = subprocess.run([sys.executable, "-m", "runtime.parent_death", str(dead.pid), "--", "true"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert wrapped.returncode == 1 and "died before true started" in wrapped.stderr
