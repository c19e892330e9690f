"""Where every word of a segment lives: the one place that computes offsets (agrona's descriptors).

Every segment starts with a 128-byte header; hot counters follow, each on its own 128-byte
block so that a producer's and a consumer's words never share a cache line (nor the adjacent
line that the spatial prefetcher pulls in with it); records start on a 128-byte boundary.

Header (128 B)::

    0        8        12       16       20       24                32
    | magic  | layout | kind   | record | (res.) | capacity        |
    |        | version|        | size   |        |                 |
    32                40                48                          128
    | owner_pid       | created_wall_ns | name (utf-8, NUL-padded, 80 B) |

One-to-one ring::  header | head (producer) | tail (consumer) | full_count (producer) | records
Broadcast ring::   header | tail (writer) | lapped_count (readers) | slot seqs (8 B each) | records
Table::            header | records (fixed slots, e.g. the per-process counters)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = int.from_bytes(b"MMSHMSEG", "little")
LAYOUT_VERSION = 1
BLOCK = 128  # bytes between hot counters: two cache lines, defeats adjacent-line prefetch
HEADER_SIZE = BLOCK
NAME_BYTES = 80

KIND_ONE_TO_ONE, KIND_BROADCAST, KIND_TABLE = 1, 2, 3
KIND_NAMES = {KIND_ONE_TO_ONE: "one-to-one ring", KIND_BROADCAST: "broadcast ring", KIND_TABLE: "table"}

HEADER_STRUCT = struct.Struct(f"<QIIIIQqq{NAME_BYTES}s")
assert HEADER_STRUCT.size == HEADER_SIZE


def _align(n: int, to: int = BLOCK) -> int:
    return (n + to - 1) // to * to


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class Layout:
    """Byte offsets inside one segment. Zero means the kind has no such word."""

    kind: int
    record_size: int
    capacity: int
    head: int = 0
    tail: int = 0
    full_count: int = 0
    lapped_count: int = 0
    slot_seqs: int = 0
    records: int = 0
    size: int = 0

    @staticmethod
    def for_kind(kind: int, record_size: int, capacity: int) -> "Layout":
        """Lay out a segment; raises ValueError naming the bad argument."""
        if record_size <= 0 or record_size % 64:
            raise ValueError(f"record_size={record_size}: must be a positive multiple of 64 bytes")
        if kind in (KIND_ONE_TO_ONE, KIND_BROADCAST) and (capacity < 2 or not is_power_of_two(capacity)):
            raise ValueError(f"capacity={capacity}: a ring's capacity must be a power of two >= 2")
        if capacity < 1:
            raise ValueError(f"capacity={capacity}: must be >= 1")
        if kind == KIND_ONE_TO_ONE:
            head, tail, full = BLOCK, 2 * BLOCK, 3 * BLOCK
            records = 4 * BLOCK
            return Layout(kind, record_size, capacity, head=head, tail=tail, full_count=full,
                          records=records, size=records + capacity * record_size)
        if kind == KIND_BROADCAST:
            tail, lapped, seqs = BLOCK, 2 * BLOCK, 3 * BLOCK
            records = _align(seqs + 8 * capacity)
            return Layout(kind, record_size, capacity, tail=tail, lapped_count=lapped,
                          slot_seqs=seqs, records=records, size=records + capacity * record_size)
        if kind == KIND_TABLE:
            return Layout(kind, record_size, capacity, records=BLOCK, size=BLOCK + capacity * record_size)
        raise ValueError(f"kind={kind}: expected one of {sorted(KIND_NAMES)}")
