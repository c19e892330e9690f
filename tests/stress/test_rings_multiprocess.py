"""Real processes on real shared memory: order, completeness and no torn record, under pressure."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shm.broadcast import BroadcastWriter
from shm.one_to_one import OneToOneRing
from shm.records import MD_DTYPE, TRADE_DTYPE
from shm.segment import list_segments, segment_name

PEERS = str(Path(__file__).with_name("ring_peers.py"))
pytestmark = pytest.mark.timeout(120)


class Peers:
    """Starts peer processes and guarantees they are gone (by pid) when the test ends."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, *args) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, PEERS, *map(str, args)], stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        assert proc.stdout.readline().strip() == "ready"
        return proc

    @staticmethod
    def result(proc: subprocess.Popen, timeout: float = 90) -> dict:
        out, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"peer pid {proc.pid} exited {proc.returncode}"
        return json.loads(out.strip().splitlines()[-1])

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def peers():
    p = Peers()
    yield p
    p.stop_all()


@pytest.mark.parametrize("batch", [1, 64])
def test_one_to_one_delivers_every_record_once_in_order_and_whole(instance, peers, batch):
    n = 50_000 if batch == 1 else 1_000_000
    ring = OneToOneRing.create(segment_name(instance, "q"), TRADE_DTYPE, 1024)
    try:
        consumer = peers.start("one_to_one", "consumer", ring.name, n, "--batch", 128)
        producer = peers.start("one_to_one", "producer", ring.name, n, "--batch", batch)
        assert peers.result(producer)["written"] == n
        got = peers.result(consumer)
        assert got == {**got, "received": n, "torn": 0, "out_of_order": 0, "gaps": 0, "last": n - 1}
    finally:
        ring.close()


def test_a_slow_one_to_one_consumer_pushes_back_without_losing_anything(instance, peers):
    n = 20_000
    ring = OneToOneRing.create(segment_name(instance, "q"), TRADE_DTYPE, 64)
    try:
        consumer = peers.start("one_to_one", "consumer", ring.name, n, "--batch", 16,
                               "--slow-every", 20, "--slow-s", 0.002)
        producer = peers.start("one_to_one", "producer", ring.name, n, "--batch", 32)
        produced = peers.result(producer)
        got = peers.result(consumer)
        assert produced["full_returns"] > 0, "the slow consumer never filled the ring"
        assert got["full_count"] > 0
        assert (got["received"], got["gaps"], got["torn"], got["out_of_order"]) == (n, 0, 0, 0)
    finally:
        ring.close()


def test_broadcast_readers_see_whole_ordered_records_and_a_slow_one_is_lapped(instance, peers):
    n = 2_000_000
    writer = BroadcastWriter.create(segment_name(instance, "md"), MD_DTYPE, 1024)
    try:
        fast = peers.start("broadcast", "consumer", writer.name, n, "--batch", 256)
        slow = peers.start("broadcast", "consumer", writer.name, n, "--batch", 8,
                           "--slow-every", 10, "--slow-s", 0.001)
        producer = peers.start("broadcast", "producer", writer.name, n, "--batch", 1)
        assert peers.result(producer)["written"] == n
        fast_result, slow_result = peers.result(fast), peers.result(slow)
        for got in (fast_result, slow_result):
            assert got["torn"] == 0, "a reader was handed a record overwritten while it was copied"
            assert got["out_of_order"] == 0
            assert got["last"] == n - 1, "every reader ends on the newest record"
            # Completeness accounting: each record was either received or counted as missed.
            assert got["received"] + got["missed"] == n
            assert (got["gaps"] > 0) == (got["lapped"] > 0)
        assert slow_result["lapped"] > 0 and slow_result["shared_lapped"] >= slow_result["lapped"]
    finally:
        writer.close()


def test_a_strict_broadcast_reader_reports_every_lap_instead_of_skipping_silently(instance, peers):
    n = 300_000
    writer = BroadcastWriter.create(segment_name(instance, "md"), MD_DTYPE, 256)
    try:
        strict = peers.start("broadcast", "strict", writer.name, n, "--batch", 8,
                             "--slow-every", 5, "--slow-s", 0.001)
        producer = peers.start("broadcast", "producer", writer.name, n, "--batch", 64)
        peers.result(producer)
        got = peers.result(strict)
        assert got["lapped_raised"] > 0
        assert got["lapped_raised"] == got["lapped"], "a lap went by without an exception"
        assert got["torn"] == 0 and got["out_of_order"] == 0
        assert got["received"] + got["missed"] == n
    finally:
        writer.close()


def test_a_killed_consumer_leaves_no_segment_once_the_owner_closes(instance, peers):
    ring = OneToOneRing.create(segment_name(instance, "q"), TRADE_DTYPE, 64)
    consumer = peers.start("one_to_one", "consumer", ring.name, 10**9, "--deadline-s", 60)
    consumer.send_signal(signal.SIGKILL)
    consumer.wait(timeout=30)
    ring.write(np.zeros(1, TRADE_DTYPE))  # the ring still works for its owner
    ring.close()
    assert list_segments(instance) == []
