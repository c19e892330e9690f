"""Broadcast ring: the writer never waits; laps are detected, counted and survived (or raised)."""
import numpy as np
import pytest

from shm.broadcast import BroadcastReader, BroadcastWriter, StrictBroadcastReader
from shm.errors import RingLappedError
from shm.records import MD_DTYPE
from shm.segment import segment_name


def md(seqs):
    arr = np.zeros(len(seqs), MD_DTYPE)
    arr["type"] = 1
    arr["seq"] = seqs
    arr["best_bid_price"] = np.asarray(seqs, float)
    return arr


@pytest.fixture
def writer(instance):
    w = BroadcastWriter.create(segment_name(instance, "md"), MD_DTYPE, 8)
    yield w
    w.close()


def test_every_reader_sees_every_record_in_order(writer):
    a = BroadcastReader.attach(writer.name, MD_DTYPE)
    b = BroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(5)))
    for reader in (a, b):
        out = np.zeros(8, MD_DTYPE)
        assert reader.read_batch(out) == 5
        assert list(out["seq"][:5]) == list(range(5))
        assert reader.lapped == 0
    a.close(), b.close()


def test_a_new_reader_starts_at_the_newest_record_by_default(writer):
    writer.write_batch(md(range(3)))
    r = BroadcastReader.attach(writer.name, MD_DTYPE)
    assert r.read() is None
    writer.write(md([3]))
    assert r.read()["seq"] == 3
    r.close()


def test_an_oldest_start_replays_what_is_still_in_the_ring(writer):
    writer.write_batch(md(range(11)))
    r = BroadcastReader.attach(writer.name, MD_DTYPE, start="oldest")
    out = np.zeros(16, MD_DTYPE)
    assert r.read_batch(out) == 8
    assert list(out["seq"][:8]) == list(range(3, 11))
    r.close()


def test_the_writer_never_waits_even_with_a_stalled_reader(writer):
    r = BroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(1000)))
    assert writer.tail == 1000
    r.close()


def test_a_lapped_reader_counts_the_lap_and_resumes_at_the_newest_record(writer):
    r = BroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(20)))
    out = np.zeros(1, MD_DTYPE)
    assert r.read_into(out) == 1
    assert out["seq"][0] == 19
    assert (r.lapped, r.missed) == (1, 19)
    assert writer.lapped_count == 1  # in shared memory, visible to the supervisor
    assert r.read_into(out) == 0
    r.close()


def test_a_strict_reader_raises_on_a_lap_then_continues_from_the_newest(writer):
    r = StrictBroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(20)))
    with pytest.raises(RingLappedError, match="19 records overwritten"):
        r.read_batch(np.zeros(4, MD_DTYPE))
    assert r.read()["seq"] == 19


def test_a_strict_reader_that_keeps_up_never_raises(writer):
    r = StrictBroadcastReader.attach(writer.name, MD_DTYPE)
    out = np.zeros(8, MD_DTYPE)
    for start in range(0, 100, 8):
        writer.write_batch(md(range(start, start + 8)))
        assert r.read_batch(out) == 8
        assert out["seq"][0] == start
    r.close()


def test_an_overwritten_slot_is_detected_even_within_the_capacity_window(writer):
    """The cursor is within reach of the tail, but its slot was rewritten (slot seq changed)."""
    r = BroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(8)))   # ring exactly full: cursor 0 is still readable
    assert r.lag == 8
    writer.write(md([8]))              # slot 0 now holds seq 8: cursor 0 is gone
    out = np.zeros(1, MD_DTYPE)
    assert r.read_into(out) == 1
    assert out["seq"][0] == 8 and r.lapped == 1
    r.close()


def test_capacity_must_be_a_power_of_two(instance):
    with pytest.raises(ValueError, match="power of two"):
        BroadcastWriter.create(segment_name(instance, "x"), MD_DTYPE, 6)


def test_a_reader_resumes_at_a_sequence_the_ring_still_holds(writer):
    writer.write_batch(md(range(11)))
    assert (writer.oldest, writer.tail) == (3, 11)
    assert writer.holds(3) and writer.holds(11) and not writer.holds(2) and not writer.holds(12)
    r = StrictBroadcastReader.attach(writer.name, MD_DTYPE, start=5)
    out = np.zeros(16, MD_DTYPE)
    assert r.read_batch(out) == 6 and list(out["seq"][:6]) == list(range(5, 11))
    r.close()


def test_a_sequence_not_yet_published_is_refused_and_an_overwritten_one_laps(writer):
    writer.write_batch(md(range(11)))
    with pytest.raises(ValueError, match="start=12: ring .* has published 11"):
        BroadcastReader.attach(writer.name, MD_DTYPE, start=12)
    r = StrictBroadcastReader.attach(writer.name, MD_DTYPE, start=1)
    with pytest.raises(RingLappedError):
        r.read_batch(np.zeros(4, MD_DTYPE))
    r.close()


def test_a_lap_in_the_middle_of_a_batch_hands_over_what_was_read_before_it(writer):
    r = StrictBroadcastReader.attach(writer.name, MD_DTYPE)
    writer.write_batch(md(range(8)))
    # As the writer would while overwriting slot 3 under the reader: its sequence word reads 0
    seqs = np.ndarray(8, np.uint64, buffer=writer.segment.buf, offset=writer.segment.layout.slot_seqs)
    seqs[3] = 0
    out = np.zeros(8, MD_DTYPE)
    with pytest.raises(RingLappedError) as err:
        r.read_batch(out)
    assert err.value.read == 3 and list(out["seq"][:3]) == [0, 1, 2]
    del seqs
    r.close()


def test_the_identity_tells_one_incarnation_of_a_ring_from_the_next(instance):
    name = segment_name(instance, "exec")
    first = BroadcastWriter.create(name, MD_DTYPE, 8)
    identity = first.identity
    first.close()
    second = BroadcastWriter.create(name, MD_DTYPE, 8)
    reader = BroadcastReader.attach(name, MD_DTYPE)
    try:
        assert reader.identity == second.identity != identity
    finally:
        reader.close()
        second.close()
