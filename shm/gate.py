"""The risk gate: what the gateway checks every ladder against, published by the risk process.

Ladders go from the quoter to the gateway directly; the gateway runs the pre-trade kernel
(kernels/pretrade.pyx) on each against this record, so the books and the trading state stay with
risk and off the latency path. One seqlocked record (shm/seqlock.pyx) in segment
``mm.<instance>.gate``: the supervisor creates it, risk is its one writer and replaces it whole
after every pass that changed a figure and at least every ``HEARTBEAT_NS``; the gateway copies it
when its sequence moved (a torn copy is retried next pass).

    heartbeat_ns    time.monotonic_ns() of risk's last write. Older than gateway.risk_timeout_s:
                    risk is dead or stuck, and the gateway pulls every quote and refuses ladders
    exec_booked     risk's cursor on ``exec``: every execution record below this sequence is booked
                    into ``position`` (the gateway adds the fills it wrote since: gateway/pretrade.py)
    trading_state   ACTIVE / REDUCING / HALTED (shm.state)
    block           RISK_* bits (shm.records) that deny quoting: RISK_HALTED while HALTED,
                    RISK_RECONCILING until risk's book is known to agree with the exchange; 0 = none
    n_instruments   how many of the per-instrument slots are used
    position[i]     contracts booked; mark[i] USD (0 = none yet); amount_tick[i], min_amount[i]
    max_position[i], max_notional[i], max_order_size[i], price_band_bps[i]
                    instrument i's [risk] limits (its own section, else the account's)
    max_net_delta_usd, max_gross_usd    the portfolio limits (procs/risk/portfolio.py; 0 = off)
    gross_usd       sum of |position| x mark; net_delta_usd[u] by underlying index
    underlying[i]   instrument i's underlying index
    delta_band      bit i set: instrument i's underlying is beyond its net-delta band (it may only
                    quote the side that shrinks that delta)

Sequence 0 means risk never wrote it: the gateway quotes nothing until it has.
"""
from __future__ import annotations

import struct

import numpy as np

from shm.records import describe
from shm.seqlock import SeqlockRecord
from shm.segment import segment_name
from shm.state import MAX_INSTRUMENTS

SEGMENT = "gate"
HEARTBEAT_NS = 20_000_000    # risk writes at least this often (ns), changed or not

GATE_DTYPE = describe("RiskGate", [
    ("heartbeat_ns", "<i8"), ("exec_booked", "<u8"),
    ("trading_state", "<u4"), ("block", "<u4"), ("n_instruments", "<u4"), ("delta_band", "<u4"),
    ("max_net_delta_usd", "<f8"), ("max_gross_usd", "<f8"), ("gross_usd", "<f8"),
    ("position", f"({MAX_INSTRUMENTS},)<f8"), ("mark", f"({MAX_INSTRUMENTS},)<f8"),
    ("amount_tick", f"({MAX_INSTRUMENTS},)<f8"), ("min_amount", f"({MAX_INSTRUMENTS},)<f8"),
    ("max_position", f"({MAX_INSTRUMENTS},)<f8"), ("max_notional", f"({MAX_INSTRUMENTS},)<f8"),
    ("max_order_size", f"({MAX_INSTRUMENTS},)<f8"), ("price_band_bps", f"({MAX_INSTRUMENTS},)<f8"),
    ("net_delta_usd", f"({MAX_INSTRUMENTS},)<f8"), ("underlying", f"({MAX_INSTRUMENTS},)<u4"),
], 768)


def _struct_of(dtype: np.dtype) -> tuple[struct.Struct, list[tuple[str, int]]]:
    """A struct.Struct that unpacks the record in one call (the fields in offset order, gaps as
    pad bytes), and each field's (name, count) to cut the flat tuple back into fields."""
    codes = {("i", 8): "q", ("u", 8): "Q", ("u", 4): "I", ("i", 4): "i", ("f", 8): "d"}
    fmt, at, fields = "<", 0, []
    for name, (dt, offset) in sorted(dtype.fields.items(), key=lambda f: f[1][1]):
        base, count = (dt.base, int(np.prod(dt.shape))) if dt.shape else (dt, 1)
        fmt += "x" * (offset - at) + codes[(base.kind, base.itemsize)] * count
        at = offset + dt.itemsize
        fields.append((name, count))
    return struct.Struct(fmt), fields


GATE_STRUCT, GATE_FIELDS = _struct_of(GATE_DTYPE)


def create(instance: str) -> SeqlockRecord:
    """The segment, owned by the caller (the supervisor)."""
    return SeqlockRecord.create(segment_name(instance, SEGMENT), GATE_DTYPE)


def attach(instance: str) -> SeqlockRecord:
    return SeqlockRecord.attach(segment_name(instance, SEGMENT), GATE_DTYPE)


class GateView:
    """The gateway's copy of the gate, as plain Python numbers (read once per write, not per
    ladder). ``refresh()`` once per pass; ``seq`` 0 until a whole copy was taken."""

    def __init__(self, record: SeqlockRecord):
        self.record = record
        self._buf = np.zeros(1, GATE_DTYPE)
        self.seq = 0
        self.torn = 0
        self.heartbeat_ns = 0
        self.exec_booked = 0
        self.trading_state = self.block = 0
        self.limits: list[tuple] = []     # per instrument: the six numbers kernels.pretrade takes
        self.position: list[float] = []
        self.mark: list[float] = []
        self.portfolio: tuple = ()        # (max_net_delta_usd, max_gross_usd, underlying by instrument)
        self.net_delta: list[float] = []  # USD by underlying index
        self.gross = 0.0
        self.delta_band = 0
        self.limits_changed = False   # set when limits changed (the reader clears it)

    def refresh(self) -> bool:
        """Take the newest record if risk wrote since the last one; True when a new one was taken."""
        if self.record.sequence == self.seq:
            return False
        seq = self.record.read_into(self._buf)
        if seq == 0:          # a write under way: next pass
            self.torn += 1
            return False
        self.seq = seq
        flat, at, f = GATE_STRUCT.unpack_from(self._buf), 0, {}   # one call, not a dozen NumPy reads
        for name, count in GATE_FIELDS:
            f[name] = flat[at] if count == 1 else flat[at:at + count]
            at += count
        n = f["n_instruments"]
        self.heartbeat_ns, self.exec_booked = f["heartbeat_ns"], f["exec_booked"]
        self.trading_state, self.block = f["trading_state"], f["block"]
        limits = list(zip(f["max_position"][:n], f["max_notional"][:n], f["max_order_size"][:n],
                          f["price_band_bps"][:n], f["amount_tick"][:n], f["min_amount"][:n]))
        portfolio = (f["max_net_delta_usd"], f["max_gross_usd"], f["underlying"][:n])
        if limits != self.limits or portfolio != self.portfolio:
            self.limits, self.portfolio = limits, portfolio
            self.limits_changed = True
        self.position = f["position"][:n]
        self.mark = f["mark"][:n]
        self.net_delta, self.gross, self.delta_band = f["net_delta_usd"], f["gross_usd"], f["delta_band"]
        return True

    def close(self) -> None:
        self.record.close()
