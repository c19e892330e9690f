"""The supervisor with real processes (each a runner driving a pass-counting agent, started the way
runtime/launch.py starts the real ones): start in order, notice a killed or hung child, ask the
gateway to cancel, restart it and count the restart, stop everything and unlink every segment."""
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from runtime.supervisor import SLOTS, START_ORDER, Supervisor
from shm.counters import STATE_RUNNING
from shm.segment import list_segments

pytestmark = pytest.mark.timeout(90)
HELPER = Path(__file__).with_name("pass_counting_process.py")


class PassCountingSupervisor(Supervisor):
    """The real supervisor; its processes run the pass-counting agent instead of the real ones."""

    broken: set = set()

    def command(self, name):
        if name in self.broken:
            return [sys.executable, "-c", "raise SystemExit(3)"]
        return [sys.executable, str(HELPER), name, "--run-dir", str(self.run_dir), "--slot", str(SLOTS[name])]


def settings_for(instance):
    runtime = {"cpu": -1, "idle": "backoff", "max_sleep_s": 0.005, "min_sleep_s": 50e-6}
    return {"instance": instance, "log_level": "INFO", "process_runtime": {n: dict(runtime) for n in START_ORDER}}


@pytest.fixture
def sup(instance, tmp_path):
    s = PassCountingSupervisor(settings_for(instance), tmp_path, heartbeat_timeout_s=1.0, start_timeout_s=20.0)
    yield s
    s.stop(grace_s=5.0)
    for child in s.children.values():      # nothing outlives the test, whatever happened
        if child.alive():
            child.proc.kill()
            child.proc.wait(timeout=10)


def watch_until(sup, predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sup.watch()
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout_s}s; events: {sup.events}")


def running(sup, name) -> bool:
    row = sup.counters.table[SLOTS[name]]
    return sup.children[name].alive() and row["pid"] == sup.children[name].pid and row["state"] == STATE_RUNNING


def test_start_runs_every_process_in_order_each_reporting_running(sup):
    sup.start()
    procs = sup.processes()
    assert [p["name"] for p in procs] == list(START_ORDER)
    assert all(p["alive"] and p["restarts"] == 0 and p["heartbeat_age_s"] < 1.0 for p in procs)
    assert all(p["malformed"] == 0 and p["duplicates"] == 0 for p in procs)
    assert all(running(sup, name) for name in START_ORDER)
    started = [sup.children[name].started_ns for name in START_ORDER]
    assert started == sorted(started)
    assert (sup.run_dir / "settings.json").exists()


def test_a_killed_process_is_restarted_after_the_gateway_cancelled_and_the_restart_is_counted(sup):
    sup.start()
    old = sup.children["quoter"].pid
    os.kill(old, signal.SIGKILL)
    t0 = time.monotonic()
    watch_until(sup, lambda: sup.children["quoter"].restarts == 1, 5.0, "a restart")
    assert time.monotonic() - t0 < 1.5                                  # noticed within a second or so
    watch_until(sup, lambda: running(sup, "quoter"), 20.0, "the new quoter running")
    assert sup.children["quoter"].pid != old
    assert sup.counters.table[SLOTS["quoter"]]["restarts"] == 1
    assert sup.state.get("cancel_done_seq") == sup.state.get("cancel_request_seq") == 1
    (event,) = sup.events
    assert (event["process"], event["pid"], event["why"]) == ("quoter", old, "exited with code -9")
    assert [p["restarts"] for p in sup.processes()] == [1 if n == "quoter" else 0 for n in START_ORDER]


def test_a_hung_process_is_noticed_by_its_stale_heartbeat_and_replaced(sup):
    sup.start()
    hung = sup.children["feed"].pid
    os.kill(hung, signal.SIGSTOP)
    watch_until(sup, lambda: sup.children["feed"].restarts == 1, 5.0, "a restart of the hung feed")
    assert sup.events[0]["why"].startswith("heartbeat") and sup.events[0]["pid"] == hung
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)                                                # killed, not left stopped
    watch_until(sup, lambda: running(sup, "feed"), 20.0, "the new feed running")


def test_stop_ends_every_process_cleanly_and_unlinks_every_segment(sup, instance):
    sup.start()
    assert list_segments(instance)
    pids = [sup.children[name].pid for name in START_ORDER]
    sup.stop(grace_s=5.0)
    # 0, or SIGTERM's own code: stop() sends SIGTERM again to a child still exiting, and Python
    # restores the default handler while it shuts down. Never SIGKILL: each stopped in its grace.
    codes = {name: sup.children[name].proc.returncode for name in START_ORDER}
    assert set(codes.values()) <= {0, -signal.SIGTERM}, codes
    for name in START_ORDER:                                            # each ran on_close
        assert int((sup.run_dir / f"{name}.closed").read_text()) > 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list_segments(instance) == []


def test_a_process_that_dies_while_starting_fails_the_start_naming_it(sup):
    sup.broken = {"risk"}
    with pytest.raises(RuntimeError, match=r"risk \(pid \d+\) exited with code 3 while starting"):
        sup.start()
    assert running(sup, "gateway") and not sup.children["quoter"].alive()
