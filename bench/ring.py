"""``bin/mm-bench ring``: our shared-memory rings beside multiprocessing.Queue and pyzmq ipc://.

Topologies (Disruptor naming): one-to-one throughput (per record, batches of 64 and 256),
one-to-one ping-pong round trip, broadcast throughput with two readers. Producer and consumer
are pinned to different CPUs where the machine allows (a warning otherwise); every baseline runs
in the same invocation, moving 64-byte payloads, timed the same way.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import uuid

from bench import _ring_workers as w
from bench.result import Result, percentiles_ns
from runtime.pinning import available_cpus
from shm.broadcast import BroadcastWriter
from shm.one_to_one import OneToOneRing
from shm.records import describe

# The 64-byte payload the performance targets name (DESIGN.md): a benchmark record, not one of the
# product's; every topology and baseline moves records of this size.
BENCH_DTYPE = describe("BenchRecord", [("type", "<u2"), ("seq", "<u8"), ("sent_ts_ns", "<i8")], 64)
CTX = mp.get_context("spawn")
QUEUE = "multiprocessing.Queue"
ZMQ = "pyzmq ipc://"


def _cpus() -> tuple[int | None, int | None, int | None]:
    cpus = available_cpus()
    if len(cpus) < 2:
        print(f"warning: only CPUs {cpus} are available: producer and consumer share a core, "
              "figures will be far below what two cores give", file=sys.stderr)
        return cpus[0], cpus[0], cpus[0]
    return cpus[0], cpus[1], cpus[1 % len(cpus)]


def _run(*targets, timeout=300.0):
    """Start (target, args) pairs, wait for all to be ready, release them, collect results."""
    procs, conns = [], []
    for target, args in targets:
        parent, child = CTX.Pipe()
        p = CTX.Process(target=target, args=(*args, child), daemon=True)
        p.start()
        procs.append(p)
        conns.append(parent)
    try:
        for conn in conns:
            if not conn.poll(timeout):
                raise TimeoutError("a benchmark worker did not start")
            tag, pinned = conn.recv()
            assert tag == "ready"
        for conn in conns:
            conn.send("go")
        results = []
        for conn, p in zip(conns, procs):
            if not conn.poll(timeout):
                raise TimeoutError(f"benchmark worker pid {p.pid} did not finish in {timeout}s")
            results.append(conn.recv()[1])
        return results
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()


def _name(tag: str) -> str:
    return f"mm.bench{os.getpid()}{uuid.uuid4().hex[:6]}.{tag}"


def _ring_throughput(n: int, batch: int) -> float:
    p_cpu, c_cpu, _ = _cpus()
    ring = OneToOneRing.create(_name("tp"), BENCH_DTYPE, 16384)
    try:
        _, rate = _run((w.ring_producer, (ring.name, BENCH_DTYPE, n, batch, p_cpu)),
                       (w.ring_consumer, (ring.name, BENCH_DTYPE, n, batch, c_cpu)))
        return rate
    finally:
        ring.close()


def _ring_rtt(n: int) -> list[int]:
    p_cpu, c_cpu, _ = _cpus()
    ping = OneToOneRing.create(_name("ping"), BENCH_DTYPE, 1024)
    pong = OneToOneRing.create(_name("pong"), BENCH_DTYPE, 1024)
    try:
        samples, _ = _run((w.ring_pinger, (ping.name, pong.name, BENCH_DTYPE, n, p_cpu)),
                          (w.ring_echo, (ping.name, pong.name, BENCH_DTYPE, n, c_cpu)))
        return samples
    finally:
        ping.close(), pong.close()


def _broadcast(n: int) -> tuple[float, list]:
    p_cpu, c_cpu, c2_cpu = _cpus()
    ring = BroadcastWriter.create(_name("bc"), BENCH_DTYPE, 65536)
    try:
        write_rate, *readers = _run((w.bcast_writer, (ring.name, BENCH_DTYPE, n, p_cpu)),
                                    (w.bcast_reader, (ring.name, BENCH_DTYPE, n, c_cpu)),
                                    (w.bcast_reader, (ring.name, BENCH_DTYPE, n, c2_cpu)))
        return write_rate, readers
    finally:
        ring.close()


def _queue_throughput(n: int) -> float:
    p_cpu, c_cpu, _ = _cpus()
    q = CTX.Queue()
    _, rate = _run((w.queue_producer, (q, n, p_cpu)), (w.queue_consumer, (q, n, c_cpu)))
    return rate


def _queue_rtt(n: int) -> list[int]:
    p_cpu, c_cpu, _ = _cpus()
    q1, q2 = CTX.Queue(), CTX.Queue()
    samples, _ = _run((w.queue_pinger, (q1, q2, n, p_cpu)), (w.queue_echo, (q1, q2, n, c_cpu)))
    return samples


def _zmq_throughput(n: int) -> float:
    p_cpu, c_cpu, _ = _cpus()
    with tempfile.TemporaryDirectory() as d:
        ep = f"ipc://{d}/tp"
        rate, _ = _run((w.zmq_consumer, (ep, n, c_cpu)), (w.zmq_producer, (ep, n, p_cpu)))
        return rate


def _zmq_rtt(n: int) -> list[int]:
    p_cpu, c_cpu, _ = _cpus()
    with tempfile.TemporaryDirectory() as d:
        ep = f"ipc://{d}/rtt"
        _, samples = _run((w.zmq_echo, (ep, n, c_cpu)), (w.zmq_pinger, (ep, n, p_cpu)))
        return samples


def run(args) -> list[Result]:
    scale = 0.05 if getattr(args, "quick", False) else 1.0
    n_rec, n_batch = int(3_000_000 * scale), int(30_000_000 * scale)
    n_queue, n_zmq, n_rtt, n_rtt_base = int(200_000 * scale), int(1_000_000 * scale), int(200_000 * scale), int(20_000 * scale)

    queue_tp, zmq_tp = _queue_throughput(n_queue), _zmq_throughput(n_zmq)
    per_record = _ring_throughput(n_rec, 1)
    batch64 = _ring_throughput(n_batch, 64)
    batch256 = _ring_throughput(n_batch, 256)
    rtt = percentiles_ns(_ring_rtt(n_rtt))
    queue_rtt = percentiles_ns(_queue_rtt(n_rtt_base))
    zmq_rtt = percentiles_ns(_zmq_rtt(n_rtt_base))
    bc_write, bc_readers = _broadcast(n_rec)
    bc_read = min(r[0] for r in bc_readers)

    rows = [
        Result("ring.one_to_one.per_record.throughput", per_record, "records/s", QUEUE, queue_tp),
        Result("ring.one_to_one.batch64.throughput", batch64, "records/s", QUEUE, queue_tp),
        Result("ring.one_to_one.batch256.throughput", batch256, "records/s", QUEUE, queue_tp),
        Result("ring.one_to_one.rtt.p50", rtt[0], "ns", QUEUE, queue_rtt[0]),
        Result("ring.one_to_one.rtt.p99", rtt[1], "ns", QUEUE, queue_rtt[1]),
        Result("ring.one_to_one.rtt.p99.9", rtt[2], "ns", QUEUE, queue_rtt[2]),
        Result("ring.broadcast.per_record.throughput", bc_write, "records/s", QUEUE, queue_tp),
        Result("ring.broadcast.two_readers.slowest_reader.throughput", bc_read, "records/s", QUEUE, queue_tp),
        Result("ring.one_to_one.per_record.throughput.vs_zmq", per_record, "records/s", ZMQ, zmq_tp),
        Result("ring.one_to_one.batch256.throughput.vs_zmq", batch256, "records/s", ZMQ, zmq_tp),
        Result("ring.one_to_one.rtt.p50.vs_zmq", rtt[0], "ns", ZMQ, zmq_rtt[0]),
        Result("ring.one_to_one.rtt.p99.vs_zmq", rtt[1], "ns", ZMQ, zmq_rtt[1]),
    ]
    laps = sum(r[1] for r in bc_readers)
    if laps:
        print(f"note: broadcast readers were lapped {laps} times "
              f"({sum(r[2] for r in bc_readers)} records skipped) while sharing cores with the writer",
              file=sys.stderr)
    return rows
