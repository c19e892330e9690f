"""Idle strategies by name, and the per-process counters table."""
import os
import time

import pytest

from shm.counters import Counters, STATE_RUNNING
from runtime.idle import Backoff, BusySpin, Yield, make_idle


def test_strategies_are_chosen_by_name():
    assert isinstance(make_idle("busy-spin"), BusySpin)
    assert isinstance(make_idle("yield"), Yield)
    assert isinstance(make_idle("backoff", max_sleep_s=0.002), Backoff)
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
