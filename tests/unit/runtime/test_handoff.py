"""Handing the core to a consumer: only when producer and consumer are pinned to the same CPU and
the consumer sleeps when idle; the ring always happens first."""
import time

from runtime.handoff import HANDOFF_NAP_S, handoff, shares_core


def settings(**cpus):
    return {"process_runtime": {name: {"cpu": cpu, "idle": idle} for name, (cpu, idle) in cpus.items()}}


def test_two_processes_pinned_to_one_cpu_share_it():
    assert shares_core(settings(feed=(1, "backoff"), quoter=(1, "backoff")), "feed", "quoter")


def test_other_cpus_unpinned_processes_or_a_spinning_consumer_do_not():
    assert not shares_core(settings(feed=(0, "backoff"), quoter=(1, "backoff")), "feed", "quoter")
    assert not shares_core(settings(feed=(-1, "backoff"), quoter=(-1, "backoff")), "feed", "quoter")
    assert not shares_core(settings(quoter=(3, "busy-spin"), gateway=(3, "busy-spin")), "quoter", "gateway")
    assert not shares_core({}, "feed", "quoter")


def test_a_ring_is_only_a_ring_apart_and_rings_then_steps_aside_together(monkeypatch):
    calls = []
    ring = lambda: calls.append("ring")   # noqa: E731
    assert handoff(ring, False) is ring
    monkeypatch.setattr(time, "sleep", lambda s: calls.append(("sleep", s)))
    handoff(ring, True)()
    assert calls == ["ring", ("sleep", HANDOFF_NAP_S)]
