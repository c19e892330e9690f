"""Producer and consumer programs for the multi-process ring tests (run as real OS processes).

Every record is filled, word by word, from its sequence number, so a consumer can tell a torn
record (words from two different writes) from a whole one without trusting any single field.
Prints one JSON line with what it saw, then exits.

    python tests/stress/ring_peers.py KIND ROLE NAME N [--batch B] [--slow-every K --slow-s S]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from shm.broadcast import BroadcastReader, BroadcastWriter, StrictBroadcastReader
from shm.errors import RingLappedError
from shm.one_to_one import FULL, OneToOneRing
from shm.records import MD_DTYPE, TRADE_DTYPE

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
DTYPES = {"one_to_one": TRADE_DTYPE, "broadcast": MD_DTYPE}


def fill(records: np.ndarray, first_seq: int) -> None:
    """Word i of record seq s := (s + 1) * GOLDEN ^ i  (never 0, so an empty slot fails too)."""
    words = records.view(np.uint64).reshape(len(records), -1)
    seqs = np.arange(first_seq, first_seq + len(records), dtype=np.uint64)
    with np.errstate(over="ignore"):
        words[:] = ((seqs + np.uint64(1)) * GOLDEN)[:, None] ^ np.arange(words.shape[1], dtype=np.uint64)


def decode(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sequence of each record, whether each record is whole)."""
    words = records.view(np.uint64).reshape(len(records), -1)
    with np.errstate(over="ignore"):
        seqs = (words[:, 0] * np.uint64(pow(int(GOLDEN), -1, 2**64))) - np.uint64(1)
        expected = ((seqs + np.uint64(1)) * GOLDEN)[:, None] ^ np.arange(words.shape[1], dtype=np.uint64)
    return seqs, np.all(words == expected, axis=1)


def produce(kind: str, name: str, n: int, batch: int) -> dict:
    dtype = DTYPES[kind]
    ring = OneToOneRing.attach(name, dtype) if kind == "one_to_one" else BroadcastWriter.attach(name, dtype)
    buf = np.zeros(batch, dtype)
    full_returns, seq = 0, 0
    while seq < n:
        k = min(batch, n - seq)
        fill(buf[:k], seq)
        if kind == "broadcast":
            ring.write_batch(buf[:k])
            seq += k
            continue
        if batch == 1:
            while ring.write(buf[:1]) == FULL:
                full_returns += 1
                time.sleep(0)
            seq += 1
        else:
            done = 0
            while done < k:
                w = ring.write_batch(buf[done:k])
                if w == 0:
                    full_returns += 1
                    time.sleep(0)
                done += w
            seq += k
    ring.close()
    return {"written": seq, "full_returns": full_returns}


def consume(kind: str, role: str, name: str, n: int, batch: int, slow_every: int, slow_s: float,
            deadline_s: float) -> dict:
    dtype = DTYPES[kind]
    if kind == "one_to_one":
        ring = OneToOneRing.attach(name, dtype)
    else:
        cls = StrictBroadcastReader if role == "strict" else BroadcastReader
        ring = cls.attach(name, dtype, start="oldest")
    out = np.zeros(batch, dtype)
    received, torn, out_of_order, gaps, lapped_raised, batches = 0, 0, 0, 0, 0, 0
    last = -1
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            got = ring.read_batch(out)
        except RingLappedError as exc:
            # The records a batch delivered before the lap are good and must be counted, the
            # way the risk agent books them: dropping them would lose data silently.
            lapped_raised += 1
            got = exc.read
            if got == 0:
                continue
        if got == 0:
            if last >= n - 1:
                break
            time.sleep(0)
            continue
        seqs, whole = decode(out[:got])
        torn += int(np.count_nonzero(~whole))
        seqs = seqs.astype(np.int64)
        steps = np.diff(np.concatenate(([last], seqs)))
        out_of_order += int(np.count_nonzero(steps <= 0))
        gaps += int(np.count_nonzero(steps > 1))
        last = int(seqs[-1])
        received += got
        batches += 1
        if slow_every and batches % slow_every == 0:
            time.sleep(slow_s)
    result = {"received": received, "torn": torn, "out_of_order": out_of_order, "gaps": gaps,
              "last": last, "lapped_raised": lapped_raised}
    if kind == "broadcast":
        result.update(lapped=int(ring.lapped), missed=int(ring.missed), shared_lapped=int(ring.lapped_count))
    else:
        result.update(full_count=int(ring.full_count))
    ring.close()
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=sorted(DTYPES))
    p.add_argument("role", choices=["producer", "consumer", "strict"])
    p.add_argument("name")
    p.add_argument("n", type=int)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--slow-every", type=int, default=0)
    p.add_argument("--slow-s", type=float, default=0.0)
    p.add_argument("--deadline-s", type=float, default=60.0)
    a = p.parse_args()
    print("ready", flush=True)
    if a.role == "producer":
        result = produce(a.kind, a.name, a.n, a.batch)
    else:
        result = consume(a.kind, a.role, a.name, a.n, a.batch, a.slow_every, a.slow_s, a.deadline_s)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
