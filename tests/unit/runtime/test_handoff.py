"""Handing the core to a consumer: only when producer and consumer are pinned to the same CPU and
the consumer sleeps when idle; the ring always happens first. The feed waits for the quoter's
pass (real doorbells, a real second process) and never longer than its timeout."""
import time

import pytest

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
    # Only a backoff sleeps on its bell: a consumer that yields or sleeps a fixed period never
    # hears the ring, and a producer waiting for its pass would wait out its timeout every time.
    for idle in ("yield", "sleep"):
        assert not shares_core(settings(feed=(1, "backoff"), quoter=(1, idle)), "feed", "quoter")


def test_a_ring_is_only_a_ring_apart_and_rings_then_steps_aside_together(monkeypatch):
    calls = []
    ring = lambda: calls.append("ring")   # noqa: E731
    assert handoff(ring, False) is ring
    monkeypatch.setattr(time, "sleep", lambda s: calls.append(("sleep", s)))
    handoff(ring, True)()
    assert calls == ["ring", ("sleep", HANDOFF_NAP_S)]


def test_a_consumer_sleeping_on_a_core_of_its_own_is_rung_one_hop_early_and_no_other():
    from runtime.handoff import prewakes
    assert prewakes(settings(feed=(1, "backoff"), gateway=(0, "backoff")), "feed", "gateway")
    assert not prewakes(settings(feed=(1, "backoff"), gateway=(1, "backoff")), "feed", "gateway")   # same core
    assert not prewakes(settings(feed=(2, "busy-spin"), gateway=(4, "busy-spin")), "feed", "gateway")  # awake anyway
    assert not prewakes(settings(feed=(-1, "backoff"), gateway=(0, "backoff")), "feed", "gateway")  # unpinned
    assert not prewakes({}, "feed", "gateway")
    for idle in ("yield", "sleep"):                                                                  # deaf to rings
        assert not prewakes(settings(feed=(1, "backoff"), gateway=(0, idle)), "feed", "gateway")


def test_after_a_ring_the_backoff_keeps_looking_for_its_window_and_work_ends_it():
    from runtime.idle import Backoff

    class Bell:
        waits = 0

        def armed(self):
            return 0

        def wait(self, seen, timeout_s):
            Bell.waits += 1
            return 0 if Bell.waits == 1 else 1       # rung the first time, then timeouts

    idle = Backoff(max_spins=0, max_yields=0, doorbell=Bell(), spin_after_wake_s=0.5)
    idle.idle(0)                                   # sleeps on the bell and is rung: the window opens
    assert Bell.waits == 1
    end = time.monotonic() + 0.05
    while time.monotonic() < end:
        idle.idle(0)
    assert Bell.waits == 1                         # inside the window: never slept
    time.sleep(0.5)
    idle.idle(0)
    assert Bell.waits == 2                         # past it: back to the bell
    idle.idle(0)                                   # a timeout opens no window...
    assert Bell.waits == 3
    Bell.waits = 0
    idle.idle(0)                                   # ...a ring does,
    idle.idle(1)                                   # and work closes it
    idle.idle(0)
    assert Bell.waits == 2


def test_the_feed_waits_for_the_quoters_pass_only_on_its_core():
    from runtime.handoff import hands_back
    assert hands_back(settings(feed=(1, "backoff"), quoter=(1, "backoff")), "feed", "quoter")
    assert not hands_back(settings(feed=(0, "backoff"), quoter=(1, "backoff")), "feed", "quoter")
    assert not hands_back(settings(feed=(1, "backoff"), quoter=(1, "busy-spin")), "feed", "quoter")
    assert not hands_back(settings(quoter=(1, "backoff"), gateway=(1, "backoff")), "quoter", "gateway")


def _quoter_pass(instance, delay_s, ready):
    """A consumer on real doorbells: wakes on its bell, works ``delay_s``, rings the feed back."""
    from shm.doorbell import Doorbells
    bells = Doorbells.attach(instance)
    mine, feed = bells.bell("quoter"), bells.bell("feed")
    seen = mine.armed()
    ready.set()
    if mine.wait(seen, 5.0) == 0:
        time.sleep(delay_s)
        feed.ring()
    bells.close()


@pytest.mark.timeout(60)
def test_ring_and_wait_returns_when_the_consumer_rings_back_and_times_out_without_it(instance):
    import multiprocessing as mp
    from runtime.handoff import ring_and_wait
    from shm.doorbell import Doorbells
    bells = Doorbells.create(instance, ("quoter", "feed"))
    try:
        quoter, feed = bells.bell("quoter"), bells.bell("feed")
        ctx = mp.get_context("spawn")
        ready = ctx.Event()
        consumer = ctx.Process(target=_quoter_pass, args=(instance, 0.05, ready))
        consumer.start()
        try:
            assert ready.wait(30), "the consumer process did not start"
            started = time.monotonic()
            ring_and_wait(quoter.ring, feed, timeout_s=2.0)()
            waited = time.monotonic() - started
            assert 0.04 < waited < 1.0, f"waited {waited:.3f} s for a 50 ms pass"
        finally:
            consumer.join(10)
            if consumer.is_alive():
                consumer.kill()
                consumer.join(5)
        started = time.monotonic()
        ring_and_wait(quoter.ring, feed, timeout_s=0.05)()       # nobody rings back: the timeout
        assert 0.04 < time.monotonic() - started < 1.0

        def instant_pass():                                       # rung back before the wait starts
            quoter.ring()
            feed.ring()
        started = time.monotonic()
        ring_and_wait(instant_pass, feed, timeout_s=2.0)()
        assert time.monotonic() - started < 0.5
    finally:
        bells.close()
