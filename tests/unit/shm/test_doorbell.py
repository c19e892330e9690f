"""Doorbells: a ring wakes a sleeping consumer at once; a ring before the sleep is not lost."""
import multiprocessing as mp
import time

import pytest

from shm.doorbell import Doorbells

NAMES = ("gateway", "risk", "quoter")   # the bells the creator asks for (the pipeline: conf.schema.BELLED)


def test_a_ring_before_waiting_is_not_lost(instance):
    bells = Doorbells.create(instance, NAMES)
    try:
        bell = bells.bell("risk")
        seen = bell.armed()
        bell.ring()                      # the producer published while we were looking
        started = time.monotonic()
        assert bell.wait(seen, 1.0) == 0
        assert time.monotonic() - started < 0.1
    finally:
        bells.close()


def test_waiting_without_a_ring_times_out(instance):
    bells = Doorbells.create(instance, NAMES)
    try:
        bell = bells.bell("gateway")
        started = time.monotonic()
        assert bell.wait(bell.armed(), 0.05) == 1
        assert 0.04 < time.monotonic() - started < 1.0
    finally:
        bells.close()


def _ring_later(instance, delay_s):
    bells = Doorbells.attach(instance)
    time.sleep(delay_s)
    bells.bell("quoter").ring()
    bells.close()


@pytest.mark.timeout(30)
def test_a_ring_from_another_process_wakes_the_sleeper_early(instance):
    bells = Doorbells.create(instance, NAMES)
    try:
        bell = bells.bell("quoter")
        seen = bell.armed()
        proc = mp.get_context("spawn").Process(target=_ring_later, args=(instance, 0.3))
        proc.start()
        started = time.monotonic()
        assert bell.wait(seen, 10.0) == 0
        assert time.monotonic() - started < 5.0
        proc.join(10)
        assert proc.exitcode == 0
    finally:
        bells.close()


def test_unknown_bells_are_refused(instance):
    bells = Doorbells.create(instance, NAMES)
    try:
        with pytest.raises(ValueError, match="doorbell 'nobody'"):
            bells.bell("nobody")
    finally:
        bells.close()


def test_an_attached_table_knows_the_names_its_creator_wrote(instance):
    bells = Doorbells.create(instance, ("b", "a"))
    other = Doorbells.attach(instance)
    try:
        assert other.slots == {"b": 0, "a": 1}
        seen = bells.bell("a").armed()
        other.bell("a").ring()
        assert bells.bell("a").seq == seen + 1 and bells.bell("b").seq == 0
        with pytest.raises(ValueError, match="expected one of b, a"):
            other.bell("quoter")
    finally:
        other.close()
        bells.close()


@pytest.mark.parametrize("names", [(), ("x", "x"), ("n" * 33,)])
def test_bad_bell_names_are_refused_and_leave_no_segment(instance, names):
    with pytest.raises(ValueError):
        Doorbells.create(instance, names)
    Doorbells.create(instance, ("ok",)).close()   # the name is free again
