"""One-to-one ring: lossless FIFO, full is a return code, empty returns nothing."""
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shm.errors import LayoutMismatchError, RecordSizeError, ShmError
from shm.one_to_one import FULL, OK, OneToOneRing
from shm.records import EXEC_DTYPE, TRADE_DTYPE
from shm.segment import segment_name


def records(seqs, dtype=TRADE_DTYPE):
    arr = np.zeros(len(seqs), dtype)
    arr["type"] = 1
    arr["seq"] = seqs
    arr["price"] = np.asarray(seqs, dtype=float) * 0.5
    return arr


@pytest.fixture
def ring(instance):
    r = OneToOneRing.create(segment_name(instance, "q"), TRADE_DTYPE, 8)
    yield r
    r.close()


def test_a_record_written_is_read_back_unchanged(ring):
    rec = records([7])
    assert ring.write(rec) == OK
    out = np.zeros(1, TRADE_DTYPE)
    assert ring.read_into(out) == 1
    assert out.tobytes() == rec.tobytes()


def test_reading_an_empty_ring_returns_nothing(ring):
    out = np.zeros(1, TRADE_DTYPE)
    assert ring.read_into(out) == 0
    assert ring.read() is None
    assert ring.read_batch(np.zeros(4, TRADE_DTYPE)) == 0


def test_writing_to_a_full_ring_returns_full_and_counts_it(ring):
    for i in range(8):
        assert ring.write(records([i])) == OK
    assert ring.write(records([8])) == FULL
    assert ring.write(records([9])) == FULL
    assert ring.full_count == 2
    assert ring.depth == 8
    assert ring.read()["seq"] == 0
    assert ring.write(records([8])) == OK


def test_records_stay_in_order_across_many_wrap_arounds(ring):
    out = np.zeros(1, TRADE_DTYPE)
    for i in range(100):
        assert ring.write(records([i])) == OK
        assert ring.read_into(out) == 1
        assert out["seq"][0] == i
    assert ring.head == ring.tail == 100


def test_a_batch_wraps_around_the_end_of_the_buffer(ring):
    assert ring.write_batch(records(range(6))) == 6
    assert ring.read_batch(np.zeros(6, TRADE_DTYPE)) == 6
    # head is now at slot 6: a batch of 8 must split into slots 6,7 and 0..5.
    assert ring.write_batch(records(range(100, 108))) == 8
    out = np.zeros(8, TRADE_DTYPE)
    assert ring.read_batch(out) == 8
    assert list(out["seq"]) == list(range(100, 108))


def test_a_batch_larger_than_the_free_space_is_cut_short(ring):
    assert ring.write_batch(records(range(5))) == 5
    assert ring.write_batch(records(range(5, 10))) == 3
    assert ring.write_batch(records([99])) == 0
    out = np.zeros(16, TRADE_DTYPE)
    assert ring.read_batch(out) == 8
    assert list(out["seq"][:8]) == list(range(8))


def test_capacity_must_be_a_power_of_two(instance):
    for bad in (0, 1, 3, 12, 1000):
        with pytest.raises(ValueError, match="power of two"):
            OneToOneRing.create(segment_name(instance, "bad"), TRADE_DTYPE, bad)


def test_attaching_with_another_record_size_names_the_mismatch(ring):
    with pytest.raises(LayoutMismatchError, match=r"record_size=64, expected 128"):
        OneToOneRing.attach(ring.name, EXEC_DTYPE)


def test_attaching_with_another_capacity_names_the_mismatch(ring):
    with pytest.raises(LayoutMismatchError, match=r"capacity=8, expected 16"):
        OneToOneRing.attach(ring.name, TRADE_DTYPE, capacity=16)


def test_attaching_a_broadcast_segment_as_one_to_one_is_refused(instance):
    from shm.broadcast import BroadcastWriter
    w = BroadcastWriter.create(segment_name(instance, "b"), TRADE_DTYPE, 8)
    try:
        with pytest.raises(LayoutMismatchError, match="kind='broadcast ring', expected 'one-to-one ring'"):
            OneToOneRing.attach(w.name, TRADE_DTYPE)
    finally:
        w.close()


def test_a_wrong_sized_array_is_refused_with_its_itemsize(ring):
    with pytest.raises(RecordSizeError, match="got itemsize 128"):
        ring.write(np.zeros(1, EXEC_DTYPE))
    with pytest.raises(RecordSizeError, match="contiguous"):
        ring.write_batch(records(range(4))[::2])


def test_a_closed_ring_refuses_use(instance):
    r = OneToOneRing.create(segment_name(instance, "c"), TRADE_DTYPE, 8)
    r.close()
    with pytest.raises(ShmError, match="closed"):
        r.write(records([1]))


def test_an_attached_consumer_sees_what_the_owner_wrote(ring):
    consumer = OneToOneRing.attach(ring.name, TRADE_DTYPE)
    ring.write_batch(records([1, 2, 3]))
    out = np.zeros(3, TRADE_DTYPE)
    assert consumer.read_batch(out) == 3
    assert ring.depth == 0  # the consumer's tail is the shared one
    consumer.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from([0, 5, 2**63 - 3, 2**64 - 5]),
       ops=st.lists(st.tuples(st.sampled_from(["w", "r"]), st.integers(1, 11)), max_size=40))
def test_index_arithmetic_matches_a_fifo_model_even_across_the_64_bit_wrap(instance, start, ops):
    """Counters are free-running uint64: full/empty must hold even when they overflow."""
    from shm.descriptor import KIND_ONE_TO_ONE
    from shm.segment import Segment

    seg = Segment.create(segment_name(instance, "h"), KIND_ONE_TO_ONE, TRADE_DTYPE.itemsize, 8)
    # Test-only: place both counters near the top of the 64-bit range before any side attaches.
    struct.pack_into("<Q", seg.buf, seg.layout.head, start)
    struct.pack_into("<Q", seg.buf, seg.layout.tail, start)
    ring = OneToOneRing(seg, TRADE_DTYPE)
    model, next_seq = [], 0
    try:
        for op, n in ops:
            if op == "w":
                written = ring.write_batch(records(range(next_seq, next_seq + n)))
                assert written == min(n, 8 - len(model))
                model += list(range(next_seq, next_seq + written))
                next_seq += n
            else:
                out = np.zeros(n, TRADE_DTYPE)
                got = ring.read_batch(out)
                assert list(out["seq"][:got]) == model[:n]
                del model[:got]
            assert ring.depth == len(model)
    finally:
        ring.close()
