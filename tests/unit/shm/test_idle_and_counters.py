"""Idle strategies by name, and the per-process counters table."""
import os
import time

import pytest

from shm.counters import Counters, STATE_RUNNING
from runtime.idle import Backoff, BusySpin, Sleep, Yield, make_idle


def test_strategies_are_chosen_by_name():
    assert isinstance(make_idle("busy-spin"), BusySpin)
    assert isinstance(make_idle("yield"), Yield)
    assert isinstance(make_idle("backoff", max_sleep_s=0.002), Backoff)
    assert make_idle("sleep", max_sleep_s=0.002).max_sleep_s == 0.002
    with pytest.raises(ValueError, match="'spin'.*expected one of"):
        make_idle("spin")


def test_backoff_spins_then_yields_then_sleeps_up_to_its_cap():
    b = Backoff(max_spins=3, max_yields=2, min_sleep_s=1e-4, max_sleep_s=4e-4)
    for _ in range(5):
        b.idle(0)
    assert (b.spins, b.yields, b.sleep_s) == (3, 2, 1e-4)
    t0 = time.perf_counter()
    for _ in range(5):
        b.idle(0)
    assert b.sleep_s == 4e-4
    assert time.perf_counter() - t0 >= 1e-4 + 2e-4 + 3 * 4e-4
    b.idle(1)  # any work resets the back-off
    assert (b.spins, b.yields, b.sleep_s) == (0, 0, 1e-4)


def test_sleep_drains_without_pausing_and_sleeps_a_whole_period_once_empty(monkeypatch):
    slept = []
    monkeypatch.setattr("runtime.idle.time.sleep", slept.append)
    s = Sleep(max_sleep_s=0.02)
    for _ in range(50):
        s.idle(3)                      # a pass that found work: look again at once
    assert slept == []
    s.idle(0)
    s.idle(0)
    assert slept == [0.02, 0.02]       # each empty pass: the full period, no back-off ramp


def test_before_sleep_is_called_only_when_a_strategy_is_about_to_block():
    b = Backoff(max_spins=2, max_yields=1, min_sleep_s=1e-5, max_sleep_s=1e-5)
    calls = []
    b.before_sleep = lambda: calls.append((b.spins, b.yields))
    for _ in range(3):
        b.idle(0)                      # two spins, one yield: not blocking yet
    assert calls == []
    b.idle(0)
    assert calls == [(2, 1)]
    s = Sleep(max_sleep_s=1e-5)
    s.before_sleep = lambda: calls.append("sleep")
    s.idle(1)
    s.idle(0)
    assert calls[1:] == ["sleep"]


def test_sleep_refuses_a_period_that_is_not_positive():
    with pytest.raises(ValueError, match="max_sleep_s=0: expected a period > 0 s"):
        Sleep(max_sleep_s=0)


def test_backoff_rejects_a_cap_below_its_floor():
    with pytest.raises(ValueError, match="min_sleep_s=0.01, max_sleep_s=0.001"):
        Backoff(min_sleep_s=0.01, max_sleep_s=0.001)


def test_counters_are_shared_and_readable_after_the_writer_closed(instance):
    table = Counters.create(instance, slots=4)
    mine = Counters.attach(instance).register(2, "quoter", cpu=1)
    mine.set_state(STATE_RUNNING)
    mine.add("errors", 3)
    mine.beat()
    rows = table.snapshot()
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["pid"], row["cpu"], row["errors"], row["state"]) == \
        ("quoter", os.getpid(), 1, 3, "running")
    assert 0 <= row["heartbeat_age_s"] < 5
    with pytest.raises(ValueError, match="counter slot 4"):
        table.register(4, "x")
    table.close()
