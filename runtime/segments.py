"""Every shared-memory segment of one pipeline instance, named in one place.

The supervisor creates them all (and is their owner), each process attaches to the ones it uses.

    md         broadcast   MdRecord      feed -> quoter, risk, recorder
    trades     broadcast   TradeRecord   feed -> quoter, recorder
    quotes     one-to-one  QuoteSet      quoter -> gateway (ladders; checked there, shm/gate.py)
    quote_log  broadcast   QuoteSet      quoter -> risk, recorder (every published ladder)
    orders     one-to-one  QuoteSet      risk -> gateway (exits, pulls on HALTED)
    exec       broadcast   ExecEvent     gateway -> quoter, risk, recorder
    counters   table       per-process health (shm.counters)
    doorbells  table       one futex bell per belled process of conf.schema.PIPELINE (shm.doorbell)
    state      table       trading state, commands, positions, P&L (shm.state)
    params     seqlock     the quoter's live parameters: supervisor -> quoter (runtime.live_params)
    gate       seqlock     limits, positions, trading state, heartbeat: risk -> gateway (shm.gate)
    latency    table       per-hop latency of the ladders sent: gateway -> status (shm.latency)
"""
from __future__ import annotations

from dataclasses import dataclass

from conf.schema import BELLED
from runtime.handoff import HANDBACKS
from runtime.live_params import LiveParamsWriter
from shm.broadcast import BroadcastReader, BroadcastWriter, StrictBroadcastReader
from shm.counters import Counters
from shm import gate, latency
from shm.doorbell import Doorbells
from shm.one_to_one import OneToOneRing
from shm.records import EXEC_DTYPE, MD_DTYPE, QUOTE_DTYPE, TRADE_DTYPE
from shm.segment import segment_name
from shm.state import SharedState

# A bell for every process that sleeps on one: the belled ones, and those waiting for a hand-back.
BELLS = BELLED + tuple(name for name in HANDBACKS if name not in BELLED)


@dataclass(frozen=True)
class RingSpec:
    name: str
    kind: str  # "broadcast" | "one_to_one"
    dtype: object
    capacity: int


RINGS = (
    RingSpec("md", "broadcast", MD_DTYPE, 4096),
    RingSpec("trades", "broadcast", TRADE_DTYPE, 4096),
    RingSpec("quotes", "one_to_one", QUOTE_DTYPE, 256),
    RingSpec("quote_log", "broadcast", QUOTE_DTYPE, 1024),
    RingSpec("orders", "one_to_one", QUOTE_DTYPE, 256),
    RingSpec("exec", "broadcast", EXEC_DTYPE, 4096),
)
SPECS = {spec.name: spec for spec in RINGS}


def create_all(instance: str) -> dict:
    """Create every segment (the caller owns them); on failure nothing is left behind."""
    made = {}
    try:
        for spec in RINGS:
            cls = BroadcastWriter if spec.kind == "broadcast" else OneToOneRing
            made[spec.name] = cls.create(segment_name(instance, spec.name), spec.dtype, spec.capacity)
        made["counters"] = Counters.create(instance)
        made["state"] = SharedState.create(instance)
        made["doorbells"] = Doorbells.create(instance, BELLS)
        made["params"] = LiveParamsWriter.create(instance)
        made["gate"] = gate.create(instance)
        made["latency"] = latency.HopLatency.create(instance)
    except BaseException:
        for seg in made.values():
            seg.close()
        raise
    return made


def writer(instance: str, name: str):
    spec = SPECS[name]
    cls = BroadcastWriter if spec.kind == "broadcast" else OneToOneRing
    return cls.attach(segment_name(instance, name), spec.dtype, capacity=spec.capacity)


def reader(instance: str, name: str, strict: bool = False, start="newest"):
    """A reader of ring ``name``; for a broadcast ring ``start`` is "newest", "oldest" or a
    sequence (shm/broadcast.pyx)."""
    spec = SPECS[name]
    if spec.kind == "one_to_one":
        return OneToOneRing.attach(segment_name(instance, name), spec.dtype, capacity=spec.capacity)
    cls = StrictBroadcastReader if strict else BroadcastReader
    return cls.attach(segment_name(instance, name), spec.dtype, start=start, capacity=spec.capacity)
