"""Per-process health in shared memory: heartbeat, work, errors, laps, full rings, latency.

One 128-byte slot per process in segment ``mm.<instance>.counters``; each process writes only its
own slot (single writer per slot, so plain aligned 64-bit stores suffice) and the supervisor,
the control port or ``bin/mmctl`` read any slot, even after the writer died.

Slot (128 B)::

    0                 24       32    36      40              48            56
    | name (24 B)      | pid    | cpu | state | heartbeat_ns  | started_ns  |
    56          64       72       80          88         96              104             112         120          128
    | work_count | errors | lapped | ring_full | restarts | latency_p50_ns | latency_p99_ns | malformed | duplicates |

``malformed`` counts input the process could not use (skipped); ``duplicates`` counts input it
had already seen (a fill reported twice: normal, dropped).
"""
from __future__ import annotations

import os
import time

import numpy as np

from shm.descriptor import KIND_TABLE
from shm.segment import Segment, segment_name

STATE_EMPTY, STATE_STARTING, STATE_RUNNING, STATE_STOPPED, STATE_DEAD = 0, 1, 2, 3, 4
STATE_NAMES = {STATE_EMPTY: "empty", STATE_STARTING: "starting", STATE_RUNNING: "running",
               STATE_STOPPED: "stopped", STATE_DEAD: "dead"}

COUNTER_DTYPE = np.dtype({
    "names": ["name", "pid", "cpu", "state", "heartbeat_ns", "started_ns", "work_count", "errors",
              "lapped", "ring_full", "restarts", "latency_p50_ns", "latency_p99_ns", "malformed",
              "duplicates"],
    "formats": ["S24", "<i8", "<i4", "<u4", "<i8", "<i8", "<u8", "<u8",
                "<u8", "<u8", "<u8", "<i8", "<i8", "<u8", "<u8"],
    "offsets": [0, 24, 32, 36, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120],
    "itemsize": 128,
})
DEFAULT_SLOTS = 16


class Counters:
    """The counters table. ``create`` owns it (supervisor); ``attach`` reads or writes a slot."""

    def __init__(self, segment: Segment):
        self.segment = segment
        self.table = np.ndarray(segment.layout.capacity, COUNTER_DTYPE, buffer=segment.buf,
                                offset=segment.layout.records)

    @classmethod
    def create(cls, instance: str, slots: int = DEFAULT_SLOTS) -> "Counters":
        return cls(Segment.create(segment_name(instance, "counters"), KIND_TABLE, COUNTER_DTYPE.itemsize, slots))

    @classmethod
    def attach(cls, instance: str) -> "Counters":
        return cls(Segment.attach(segment_name(instance, "counters"), KIND_TABLE, COUNTER_DTYPE.itemsize))

    def register(self, index: int, name: str, cpu: int = -1) -> "ProcessCounters":
        """Claim slot ``index`` for the calling process (a restart reuses its slot)."""
        if not 0 <= index < len(self.table):
            raise ValueError(f"counter slot {index}: expected 0..{len(self.table) - 1}")
        return ProcessCounters(self.table, index, name, cpu)

    def snapshot(self) -> list[dict]:
        """Every used slot as a plain dict, with ``heartbeat_age_s`` computed now."""
        now = time.monotonic_ns()
        rows = []
        for row in self.table.copy():
            if row["state"] == STATE_EMPTY:
                continue
            d = {name: row[name].item() for name in COUNTER_DTYPE.names}
            d["name"] = d["name"].decode(errors="replace")
            d["state"] = STATE_NAMES.get(d["state"], str(d["state"]))
            d["heartbeat_age_s"] = (now - d["heartbeat_ns"]) / 1e9 if d["heartbeat_ns"] else None
            rows.append(d)
        return rows

    def close(self) -> None:
        self.table = None
        self.segment.release()


class ProcessCounters:
    """One process's slot. Counters only increase; ``beat`` stamps the heartbeat."""

    def __init__(self, table: np.ndarray, index: int, name: str, cpu: int):
        self.row = table[index:index + 1]  # a view into shared memory
        self.index = index
        self.row["name"] = name.encode()[:24]
        self.row["pid"] = os.getpid()
        self.row["cpu"] = cpu
        self.row["started_ns"] = time.monotonic_ns()
        self.row["state"] = STATE_STARTING
        self.beat()

    def beat(self) -> None:
        self.row["heartbeat_ns"] = time.monotonic_ns()

    def set_state(self, state: int) -> None:
        self.row["state"] = state

    def add(self, field: str, n: int = 1) -> None:
        self.row[field] += n

    def set(self, field: str, value) -> None:
        self.row[field] = value

    def get(self, field: str):
        return self.row[field][0].item()
