"""Process bodies for bench/ring.py: our rings and the baselines, measured the same way.

Each worker pins itself, reports readiness, runs, and sends its figures back on a Pipe (the pipe
is control plane only, never inside a timed loop). Throughput is timed by the consumer from its
first record to its last; round trips by the pinging side around each ping.
"""
from __future__ import annotations

import os
import time

import numpy as np

from runtime.pinning import pin

PING, PONG = 0, 1


# ---- our one-to-one ring -------------------------------------------------------------------
def ring_producer(name, dtype, n, batch, cpu, conn):
    from shm.one_to_one import OneToOneRing
    pinned = pin(cpu)
    ring = OneToOneRing.attach(name, dtype)
    buf = np.zeros(max(batch, 1), dtype)
    buf["type"] = 1
    conn.send(("ready", pinned))
    conn.recv()
    if batch <= 1:
        write, rec = ring.write, buf[:1]
        for _ in range(n):
            while write(rec):
                pass
    else:
        write_batch, sent = ring.write_batch, 0
        while sent < n:
            sent += write_batch(buf[: min(batch, n - sent)])
    conn.send(("done", 0))
    ring.close()


def ring_consumer(name, dtype, n, batch, cpu, conn):
    from shm.one_to_one import OneToOneRing
    pinned = pin(cpu)
    ring = OneToOneRing.attach(name, dtype)
    out = np.zeros(max(batch, 1), dtype)
    conn.send(("ready", pinned))
    if batch <= 1:
        read = ring.read_into
        while not read(out):
            pass
        t0 = time.perf_counter_ns()
        for _ in range(n - 1):
            while not read(out):
                pass
        got = n - 1
    else:
        read_batch = ring.read_batch
        first = 0
        while not first:
            first = read_batch(out)
        t0 = time.perf_counter_ns()
        got = 0
        while got < n - first:
            got += read_batch(out)
    conn.send(("done", got / ((time.perf_counter_ns() - t0) / 1e9)))
    ring.close()


def ring_echo(ping_name, pong_name, dtype, n, cpu, conn):
    from shm.one_to_one import OneToOneRing
    pinned = pin(cpu)
    ping, pong = OneToOneRing.attach(ping_name, dtype), OneToOneRing.attach(pong_name, dtype)
    out = np.zeros(1, dtype)
    conn.send(("ready", pinned))
    read, write = ping.read_into, pong.write
    for _ in range(n):
        while not read(out):
            pass
        write(out)
    conn.send(("done", 0))
    ping.close(), pong.close()


def ring_pinger(ping_name, pong_name, dtype, n, cpu, conn):
    from shm.one_to_one import OneToOneRing
    pinned = pin(cpu)
    ping, pong = OneToOneRing.attach(ping_name, dtype), OneToOneRing.attach(pong_name, dtype)
    rec, out = np.zeros(1, dtype), np.zeros(1, dtype)
    conn.send(("ready", pinned))
    conn.recv()
    write, read, clock = ping.write, pong.read_into, time.perf_counter_ns
    samples = []
    append = samples.append
    for _ in range(n):
        t = clock()
        write(rec)
        while not read(out):
            pass
        append(clock() - t)
    conn.send(("done", samples))
    ping.close(), pong.close()


# ---- our broadcast ring --------------------------------------------------------------------
def bcast_writer(name, dtype, n, cpu, conn):
    from shm.broadcast import BroadcastWriter
    pinned = pin(cpu)
    ring = BroadcastWriter.attach(name, dtype)
    rec = np.zeros(1, dtype)
    rec["type"] = 1
    conn.send(("ready", pinned))
    conn.recv()
    write = ring.write
    t0 = time.perf_counter_ns()
    for _ in range(n):
        write(rec)
    conn.send(("done", n / ((time.perf_counter_ns() - t0) / 1e9)))
    ring.close()


def bcast_reader(name, dtype, n, cpu, conn):
    from shm.broadcast import BroadcastReader
    pinned = pin(cpu)
    ring = BroadcastReader.attach(name, dtype)
    out = np.zeros(1, dtype)
    conn.send(("ready", pinned))
    read, yield_ = ring.read_into, os.sched_yield
    while not read(out):
        yield_()
    t0 = time.perf_counter_ns()
    got = 1
    while ring.cursor < n:
        if read(out):
            got += 1
        else:
            yield_()  # three processes on two cores: readers must give the CPU away
    elapsed = (time.perf_counter_ns() - t0) / 1e9
    conn.send(("done", (got / elapsed, int(ring.lapped), int(ring.missed))))
    ring.close()


# ---- multiprocessing.Queue -----------------------------------------------------------------
def queue_producer(q, n, cpu, conn):
    pinned = pin(cpu)
    payload = bytes(64)
    conn.send(("ready", pinned))
    conn.recv()
    put = q.put
    for _ in range(n):
        put(payload)
    conn.send(("done", 0))


def queue_consumer(q, n, cpu, conn):
    pinned = pin(cpu)
    conn.send(("ready", pinned))
    get = q.get
    get()
    t0 = time.perf_counter_ns()
    for _ in range(n - 1):
        get()
    conn.send(("done", (n - 1) / ((time.perf_counter_ns() - t0) / 1e9)))


def queue_echo(q_ping, q_pong, n, cpu, conn):
    pinned = pin(cpu)
    conn.send(("ready", pinned))
    for _ in range(n):
        q_pong.put(q_ping.get())
    conn.send(("done", 0))


def queue_pinger(q_ping, q_pong, n, cpu, conn):
    pinned = pin(cpu)
    payload = bytes(64)
    conn.send(("ready", pinned))
    conn.recv()
    samples, clock = [], time.perf_counter_ns
    for _ in range(n):
        t = clock()
        q_ping.put(payload)
        q_pong.get()
        samples.append(clock() - t)
    conn.send(("done", samples))


# ---- pyzmq ipc:// --------------------------------------------------------------------------
def zmq_producer(endpoint, n, cpu, conn):
    import zmq
    pinned = pin(cpu)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    sock.connect(endpoint)
    payload = bytes(64)
    conn.send(("ready", pinned))
    conn.recv()
    send = sock.send
    for _ in range(n):
        send(payload)
    conn.send(("done", 0))
    sock.close(linger=-1)
    ctx.term()


def zmq_consumer(endpoint, n, cpu, conn):
    import zmq
    pinned = pin(cpu)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    sock.setsockopt(zmq.RCVHWM, 100_000)
    sock.bind(endpoint)
    conn.send(("ready", pinned))
    recv = sock.recv
    recv()
    t0 = time.perf_counter_ns()
    for _ in range(n - 1):
        recv(copy=False)
    conn.send(("done", (n - 1) / ((time.perf_counter_ns() - t0) / 1e9)))
    sock.close(linger=0)
    ctx.term()


def zmq_echo(endpoint, n, cpu, conn):
    import zmq
    pinned = pin(cpu)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.bind(endpoint)
    conn.send(("ready", pinned))
    for _ in range(n):
        sock.send(sock.recv())
    conn.send(("done", 0))
    sock.close(linger=0)
    ctx.term()


def zmq_pinger(endpoint, n, cpu, conn):
    import zmq
    pinned = pin(cpu)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.connect(endpoint)
    payload = bytes(64)
    conn.send(("ready", pinned))
    conn.recv()
    samples, clock = [], time.perf_counter_ns
    for _ in range(n):
        t = clock()
        sock.send(payload)
        sock.recv()
        samples.append(clock() - t)
    conn.send(("done", samples))
    sock.close(linger=0)
    ctx.term()
