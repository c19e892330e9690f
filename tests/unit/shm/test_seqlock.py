"""Seqlocked record: a reader gets the last whole record or nothing, never a mix of two writes."""
import multiprocessing as mp

import numpy as np
import pytest

from shm.errors import LayoutMismatchError, ShmError
from shm.segment import segment_name
from shm.seqlock import SeqlockRecord

WORDS = 128
DTYPE = np.dtype([("v", "<u8", (WORDS,))])   # 1 KB: a copy takes long enough to be caught mid-way


def record(k: int) -> np.ndarray:
    rec = np.zeros(1, DTYPE)
    rec["v"] = k
    return rec


def sequence_word(rec: SeqlockRecord) -> np.ndarray:
    """A view of the sequence word, to play a writer that died half-way (tests only)."""
    return np.ndarray(1, np.uint64, buffer=rec.segment.buf, offset=rec.segment.layout.records)


@pytest.fixture
def owner(instance):
    rec = SeqlockRecord.create(segment_name(instance, "params"), DTYPE)
    yield rec
    rec.close()


def test_nothing_written_reads_as_sequence_zero(owner):
    reader = SeqlockRecord.attach(owner.name, DTYPE)
    out = record(7)
    assert reader.sequence == 0 and reader.read_into(out) == 0
    reader.close()


def test_each_write_replaces_the_record_and_advances_the_sequence_by_two(owner):
    reader = SeqlockRecord.attach(owner.name, DTYPE)
    out = np.zeros(1, DTYPE)
    for k in (1, 2, 3):
        assert owner.write(record(k)) == 2 * k
        assert reader.sequence == 2 * k
        assert reader.read_into(out) == 2 * k and (out["v"] == k).all()
    reader.close()


def test_a_write_left_half_done_by_a_dead_writer_is_never_returned_and_the_next_write_recovers(owner):
    reader = SeqlockRecord.attach(owner.name, DTYPE)
    owner.write(record(1))
    seq = sequence_word(owner)
    seq[0] += 1                                    # "being written" ...
    at = owner.segment.layout.records + 128
    owner.segment.buf[at:at + 8] = b"\xff" * 8    # ... and half copied
    out = np.zeros(1, DTYPE)
    assert reader.sequence == 3 and reader.read_into(out) == 0
    del seq
    assert owner.write(record(5)) == 6             # the next write starts from an even sequence
    assert reader.read_into(out) == 6 and (out["v"] == 5).all()
    reader.close()


def _write_many(name: str, n: int) -> None:
    rec = SeqlockRecord.attach(name, DTYPE)
    for k in range(1, n + 1):
        rec.write(record(k))
    rec.close()


@pytest.mark.timeout(60)
def test_a_reader_never_takes_a_torn_copy_while_another_process_writes(owner):
    owner.write(record(0))
    writer = mp.get_context("spawn").Process(target=_write_many, args=(owner.name, 200_000))
    writer.start()
    out = np.zeros(1, DTYPE)
    whole = refused = 0
    try:
        while writer.is_alive() or whole == 0:
            if owner.read_into(out):
                v = out["v"][0]
                assert (v == v[0]).all(), f"torn copy: words {sorted(set(v.tolist()))[:4]} ..."
                whole += 1
            else:
                refused += 1
    finally:
        writer.join(30)
    assert writer.exitcode == 0 and whole > 0
    assert owner.read_into(out) == 400_002 and (out["v"] == 200_000).all()


def test_a_record_of_another_size_is_refused_on_attach(owner):
    with pytest.raises(LayoutMismatchError, match="record_size"):
        SeqlockRecord.attach(owner.name, np.dtype([("v", "<u8", (8,))]))


def test_a_closed_record_refuses_reads(instance):
    rec = SeqlockRecord.create(segment_name(instance, "params"), DTYPE)
    rec.close()
    with pytest.raises(ShmError, match="closed"):
        rec.read_into(np.zeros(1, DTYPE))
    with pytest.raises(ShmError, match="closed"):
        rec.sequence
