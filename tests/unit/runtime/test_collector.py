"""Python's garbage collection moved off the hot path (runtime/collector.py): frozen start-up
objects, no automatic collection, collections in idle passes at CPython's rate, a forced one for a
process that never idles, and the interpreter's collector given back; and the runner uses it."""
import gc

import pytest

from runtime.agent import Agent
from runtime.collector import FORCE_AFTER, THRESHOLD, IdleCollector
from runtime.idle import Sleep
from runtime.runner import Runner


@pytest.fixture
def collector():
    c = IdleCollector()
    yield c
    c.close()


def make_cycles(n: int) -> None:
    for _ in range(n):
        a = []
        a.append(a)          # a reference cycle: only the cyclic collector frees it


def test_start_up_objects_are_frozen_and_automatic_collection_is_off(collector):
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 1000      # this interpreter's modules, pytest's objects
    make_cycles(5 * THRESHOLD)
    assert gc.get_count()[0] >= 5 * THRESHOLD, "allocations alone collected nothing"


def test_an_idle_pass_collects_once_cpython_would_have_and_not_before(collector):
    gc.collect(0)   # gc.collect runs even when disabled; start from an empty young generation
    collector.on_idle()
    assert collector.collections == 0
    make_cycles(THRESHOLD)
    collector.on_idle()
    assert collector.collections == 1 and gc.get_count()[0] < THRESHOLD


def test_a_pass_with_work_collects_only_far_past_the_threshold(collector):
    gc.collect(0)
    make_cycles(2 * THRESHOLD)
    collector.after_work()
    assert collector.collections == 0
    make_cycles(FORCE_AFTER)
    collector.after_work()
    assert collector.collections == 1


def test_older_generations_are_collected_every_tenth_and_hundredth_time(collector, monkeypatch):
    gens = []
    monkeypatch.setattr("runtime.collector.gc.collect", gens.append)
    monkeypatch.setattr("runtime.collector.gc.get_count", lambda: (THRESHOLD, 0, 0))
    for _ in range(100):
        collector.on_idle()
    assert gens.count(1) == 9 and gens.count(2) == 1 and gens[9] == 1 and gens[99] == 2


def test_close_gives_the_interpreter_its_collector_back():
    c = IdleCollector()
    c.close()
    assert gc.isenabled() and gc.get_freeze_count() == 0


class Allocating(Agent):
    """Makes reference cycles in its working passes; idles every other pass. Notes whether
    automatic collection was on, and what the idle strategy calls before it blocks."""
    name = "allocating"

    def __init__(self, idle=None):
        self.passes, self.idle = 0, idle
        self.enabled_in_passes, self.hooks_in_passes = set(), set()

    def do_work(self):
        self.passes += 1
        self.enabled_in_passes.add(gc.isenabled())
        self.hooks_in_passes.add(getattr(self.idle, "before_sleep", None) is not None)
        make_cycles(THRESHOLD)
        return self.passes % 2


def test_the_runner_collects_between_passes_and_restores_the_collector_when_it_stops():
    agent = Allocating()
    runner = Runner(agent, type("NoIdle", (), {"idle": lambda self, w: None})())
    runner.run(max_seconds=0.2)
    assert agent.enabled_in_passes == {False}
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.get_count()[0] < 3 * THRESHOLD


def test_a_sleeping_strategy_collects_right_before_it_blocks_and_is_unhooked_after(monkeypatch):
    idle = Sleep(max_sleep_s=0.001)
    agent = Allocating(idle)
    order = []
    real_on_idle = IdleCollector.on_idle
    monkeypatch.setattr(IdleCollector, "on_idle", lambda self: (order.append("collect"), real_on_idle(self)))
    monkeypatch.setattr("runtime.idle.time.sleep", lambda s: order.append("sleep"))
    Runner(agent, idle).run(max_seconds=0.2)
    assert agent.hooks_in_passes == {True}, "the strategy held the collector's hook while running"
    assert order and order[::2] == ["collect"] * len(order[::2]) and order[1::2] == ["sleep"] * len(order[1::2])
    assert idle.before_sleep is None and gc.isenabled()
    assert gc.get_count()[0] < 3 * THRESHOLD


class Interrupted(Allocating):
    def do_work(self):
        raise KeyboardInterrupt


def test_whatever_ends_the_loop_the_collector_and_the_hook_are_given_back():
    idle = Sleep(max_sleep_s=0.001)
    with pytest.raises(KeyboardInterrupt):
        Runner(Interrupted(idle), idle).run(max_seconds=1.0)
    assert gc.isenabled() and gc.get_freeze_count() == 0 and idle.before_sleep is None


def test_close_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        IdleCollector().close()
        assert not gc.isenabled()
    finally:
        gc.enable()
