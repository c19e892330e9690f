"""Segments: naming, header checks, single-owner unlink, sweeping the dead, no resource tracker."""
import os
import signal
import subprocess
import sys

import pytest

from shm import segment as seg
from shm.descriptor import KIND_ONE_TO_ONE, KIND_TABLE
from shm.errors import LayoutMismatchError, SegmentExistsError, SegmentNotFoundError, ShmError
from shm.segment import Segment, segment_name


def test_names_carry_the_prefix_instance_and_name():
    assert segment_name("paper", "md") == "mm.paper.md"
    with pytest.raises(ValueError, match="instance='a.b'"):
        segment_name("a.b", "md")


def test_creating_an_existing_name_says_who_owns_it(instance):
    s = Segment.create(segment_name(instance, "x"), KIND_TABLE, 128, 2)
    with pytest.raises(SegmentExistsError, match=f"owner pid {os.getpid()}, alive"):
        Segment.create(s.name, KIND_TABLE, 128, 2)
    s.release()


def test_attaching_a_missing_segment_is_a_clear_error(instance):
    with pytest.raises(SegmentNotFoundError, match="does not exist"):
        Segment.attach(segment_name(instance, "nope"), KIND_TABLE, 128)


def test_a_foreign_file_is_refused_by_its_magic(instance):
    path = seg.SHM_DIR / segment_name(instance, "junk")
    path.write_bytes(b"\x01" * 4096)
    try:
        with pytest.raises(LayoutMismatchError, match="magic"):
            Segment.attach(path.name, KIND_TABLE, 128)
    finally:
        path.unlink()


def test_only_the_owner_unlinks(instance):
    owner = Segment.create(segment_name(instance, "o"), KIND_TABLE, 128, 1)
    other = Segment.attach(owner.name, KIND_TABLE, 128)
    with pytest.raises(ShmError, match="only its owner"):
        other.unlink()
    other.release()  # a non-owner's release only unmaps
    assert owner.name in seg.list_segments(instance)
    owner.release()
    assert owner.name not in seg.list_segments(instance)


def test_a_segment_survives_an_attached_process_exiting(instance):
    """Python 3.11's resource tracker would unlink it here; our own mapping must not."""
    owner = Segment.create(segment_name(instance, "rt"), KIND_ONE_TO_ONE, 64, 8)
    code = ("import sys; from shm.segment import Segment; from shm.descriptor import KIND_ONE_TO_ONE;"
            f"s = Segment.attach({owner.name!r}, KIND_ONE_TO_ONE, 64); s.close()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert owner.name in seg.list_segments(instance)
    owner.release()


def test_sweep_removes_segments_of_a_killed_owner_and_keeps_live_ones(instance):
    code = ("import time; from shm.segment import Segment; from shm.descriptor import KIND_TABLE;"
            f"Segment.create('mm.{instance}.dead', KIND_TABLE, 128, 1); print('ok', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ok"
        live = Segment.create(segment_name(instance, "live"), KIND_TABLE, 128, 1)
        assert seg.sweep(instance) == []  # both owners alive
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert seg.sweep(instance) == [f"mm.{instance}.dead"]
        assert seg.list_segments(instance) == [live.name]
        live.release()
    finally:
        child.kill()
        child.wait(timeout=30)


def test_a_reused_pid_does_not_keep_a_dead_owners_segment(instance):
    s = Segment.create(segment_name(instance, "old"), KIND_TABLE, 128, 1)
    # Pretend the segment was made long before this process (pid 1) started.
    from shm.descriptor import HEADER_STRUCT
    fields = list(HEADER_STRUCT.unpack_from(s.buf, 0))
    fields[6], fields[7] = 1, 1_000_000_000  # owner pid 1, created in 1970
    HEADER_STRUCT.pack_into(s.buf, 0, *fields)
    s.close()   # a segment still mapped by a live process is never swept (next test)
    assert seg.sweep(instance) == [s.name]


def test_sweep_keeps_a_dead_owners_segment_while_a_live_process_maps_it(instance):
    """Orphans of a SIGKILLed supervisor still use its segments: a new run must not pull them."""
    owner_code = ("import time; from shm.segment import Segment; from shm.descriptor import KIND_TABLE;"
                  f"Segment.create('mm.{instance}.orphaned', KIND_TABLE, 128, 1); print('ok', flush=True);"
                  "time.sleep(60)")
    user_code = ("import time; from shm.segment import Segment; from shm.descriptor import KIND_TABLE;"
                 f"s = Segment.attach('mm.{instance}.orphaned', KIND_TABLE, 128); print('ok', flush=True);"
                 "time.sleep(60)")
    owner = subprocess.Popen([sys.executable, "-c", owner_code], stdout=subprocess.PIPE, text=True)
    user = None
    try:
        assert owner.stdout.readline().strip() == "ok"
        user = subprocess.Popen([sys.executable, "-c", user_code], stdout=subprocess.PIPE, text=True)
        assert user.stdout.readline().strip() == "ok"
        owner.kill()
        owner.wait(timeout=30)
        path = seg.SHM_DIR / f"mm.{instance}.orphaned"
        assert seg.mapped_by([path]) == {path: [user.pid]}
        assert seg.sweep(instance) == []           # its owner is dead, but the user still maps it
        assert seg.list_segments(instance) == [path.name]
        user.kill()
        user.wait(timeout=30)
        assert seg.sweep(instance) == [path.name]  # nobody maps it any more
    finally:
        for proc in (owner, user):
            if proc is not None:
                proc.kill()
                proc.wait(timeout=30)
