"""The runner drives one agent: passes until stopped, a heartbeat and the agent's report at every
interval, on_close exactly once (also after a failed start or a failing pass), exit codes, and a
real process stopped cleanly by SIGTERM."""
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime import segments
from runtime.agent import Agent
from runtime.idle import Backoff
from runtime.runner import Runner
from shm.counters import STATE_DEAD, STATE_RUNNING, STATE_STOPPED, Counters

HELPER = Path(__file__).with_name("pass_counting_process.py")
ROOT = Path(__file__).resolve().parents[3]


class Counting(Agent):
    """Counts passes (one unit of work each), the heartbeats it saw and the hooks called."""
    name = "counting"

    def __init__(self, counters=None, fail_at=None, fail_start=False, fail_close=False):
        self.counters, self.fail_at, self.fail_start, self.fail_close = counters, fail_at, fail_start, fail_close
        self.passes = self.reports = self.closes = 0
        self.beats = set()

    def on_start(self):
        if self.fail_start:
            raise RuntimeError("no ring")

    def do_work(self):
        self.passes += 1
        if self.passes == self.fail_at:
            raise ValueError("bad record")
        if self.counters is not None:
            self.beats.add(self.counters.get("heartbeat_ns"))
        return 1

    def report(self, counters):
        self.reports += 1

    def on_close(self):
        self.closes += 1
        if self.fail_close:
            raise OSError("disk full")


class CountingIdle:
    def __init__(self):
        self.calls = 0

    def idle(self, work_count):
        self.calls += 1


@pytest.fixture
def slot(instance):
    table = Counters.create(instance, slots=4)
    yield table.register(1, "counting")
    table.close()


def test_it_runs_passes_until_max_seconds_with_a_heartbeat_and_a_report_at_every_interval(slot):
    agent = Counting(slot)
    runner = Runner(agent, Backoff(), counters=slot, heartbeat_interval_s=0.02)
    assert runner.run(max_seconds=0.3) == 0
    assert agent.passes > 10 and agent.closes == 1
    assert len(agent.beats) >= 5 and agent.reports >= 5
    assert 0 < slot.get("work_count") <= agent.passes         # added at each heartbeat
    assert slot.get("state") == STATE_STOPPED and slot.get("errors") == 0


def test_a_stop_request_ends_the_loop_after_the_current_pass(slot):
    class StopsAfterTwo(Counting):
        def do_work(self):
            work = super().do_work()
            if self.passes == 2:
                runner.request_stop()      # what the SIGTERM handler does
            return work
    agent = StopsAfterTwo(slot)
    runner = Runner(agent, Backoff(), counters=slot)
    assert runner.run() == 0
    assert agent.passes == 2 and agent.closes == 1


def test_an_exception_in_a_pass_is_counted_logged_and_closes_the_agent_with_exit_code_1(slot, caplog):
    agent = Counting(slot, fail_at=3)
    with caplog.at_level(logging.ERROR):
        assert Runner(agent, Backoff(), counters=slot).run(max_seconds=5) == 1
    assert agent.passes == 3 and agent.closes == 1
    assert slot.get("errors") == 1 and slot.get("state") == STATE_DEAD
    assert "counting: failed in do_work" in caplog.text and "ValueError: bad record" in caplog.text


def test_a_failed_start_closes_the_agent_and_never_runs_a_pass(slot, caplog):
    agent = Counting(slot, fail_start=True)
    with caplog.at_level(logging.ERROR):
        assert Runner(agent, Backoff(), counters=slot).run(max_seconds=5) == 1
    assert (agent.passes, agent.closes) == (0, 1)
    assert slot.get("state") == STATE_DEAD and "counting: start failed" in caplog.text


def test_a_failing_on_close_is_logged_and_does_not_change_the_exit_code(slot, caplog):
    agent = Counting(slot, fail_close=True)
    with caplog.at_level(logging.ERROR):
        assert Runner(agent, Backoff(), counters=slot).run(max_seconds=0.05) == 0
    assert "counting: on_close failed" in caplog.text and slot.get("state") == STATE_STOPPED


def test_an_agent_that_waits_in_its_own_pass_gets_no_idle_on_top(slot):
    agent = Counting(slot)
    agent.waits_in_work = True
    idle = CountingIdle()
    Runner(agent, idle, counters=slot).run(max_seconds=0.05)
    assert agent.passes > 0 and idle.calls == 0
    busy = Counting(slot)
    Runner(busy, idle, counters=slot).run(max_seconds=0.05)
    assert idle.calls == busy.passes


def test_it_runs_without_a_counters_slot():
    agent = Counting()
    assert Runner(agent, Backoff()).run(max_seconds=0.05) == 0 and agent.closes == 1


@pytest.mark.timeout(30)
def test_a_real_process_stops_cleanly_on_sigterm_and_closes_its_agent(instance, tmp_path):
    segs = segments.create_all(instance)
    proc = None
    try:
        settings = {"instance": instance, "log_level": "INFO",
                    "process_runtime": {"quoter": {"cpu": -1, "idle": "backoff", "max_sleep_s": 0.005,
                                                   "min_sleep_s": 50e-6}}}
        (tmp_path / "settings.json").write_text(json.dumps(settings))
        proc = subprocess.Popen([sys.executable, str(HELPER), "quoter", "--run-dir", str(tmp_path), "--slot", "3"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        row = segs["counters"].table[3:4]
        deadline = time.monotonic() + 15
        while not (row["pid"][0] == proc.pid and row["state"][0] == STATE_RUNNING):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the process never reported running"
            time.sleep(0.01)
        beat = int(row["heartbeat_ns"][0])
        time.sleep(0.2)
        assert int(row["heartbeat_ns"][0]) > beat                    # alive and beating
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert row["state"][0] == STATE_STOPPED
        assert int((tmp_path / "quoter.closed").read_text()) > 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc is not None:
            proc.stderr.close()
        for seg in segs.values():
            seg.close()
