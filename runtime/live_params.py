"""Live quoter parameters: the supervisor publishes them in shared memory, the quoter takes them.

``bin/mmctl set quoter.KEY=VALUE`` (every instrument without its own value) or
``set ETH-PERPETUAL.KEY=VALUE`` (one instrument) is validated by the supervisor
(runtime/main.validate_set: a refused value changes nothing). The accepted parameters of every
traded instrument, complete, are written whole into the seqlocked record ``mm.<instance>.params``
(shm/seqlock.pyx), also once at start: one QuoteParams record per instrument id. The quoter
compares the record's sequence with the last one it took once per pass (one atomic load); only
when it moved does it copy the record, rebuild each instrument's QuoteParams and validate them
again; an engine whose parameters differ takes them, keeping its estimator state
(QuoteParams.estimators_to_rebuild), the others are left alone. A copy torn by a concurrent
write is discarded and taken again on the next pass; no file is read.

One instrument's record is derived from QuoteParams' fields, so a new parameter needs no edit
here::

    float -> f8    int -> i8    bool -> u1    str -> S16 (ASCII)
    tuple -> f8[max_len] (the field's metadata) and n_<name> (u4): how many values are used

The published record: ``n_instruments`` (u4), then ``params[MAX_INSTRUMENTS]`` of those.
"""
from __future__ import annotations

import dataclasses
import logging
import typing

import numpy as np

from kernels.params import QuoteParams
from shm.records import CACHE_LINE, describe
from shm.segment import segment_name
from shm.seqlock import SeqlockRecord
from shm.state import MAX_INSTRUMENTS

log = logging.getLogger("live_params")
SEGMENT = "params"
TEXT_BYTES = 16
_HINTS = typing.get_type_hints(QuoteParams)
_FIELDS = dataclasses.fields(QuoteParams)


def _layout() -> np.dtype:
    spec = []
    for f in _FIELDS:
        hint = _HINTS[f.name]
        if hint is tuple:
            spec += [(f"n_{f.name}", "<u4"), (f.name, f"({f.metadata['max_len']},)<f8")]
        else:
            spec.append((f.name, {float: "<f8", int: "<i8", bool: "u1", str: f"S{TEXT_BYTES}"}[hint]))
    natural = np.dtype(spec, align=True).itemsize
    return describe("LiveParams", spec, -(-natural // CACHE_LINE) * CACHE_LINE)


PARAMS_DTYPE = _layout()


def _set_layout() -> np.dtype:
    natural = np.dtype([("n_instruments", "<u4"), ("params", PARAMS_DTYPE, (MAX_INSTRUMENTS,))], align=True)
    return np.dtype({"names": list(natural.names), "formats": [natural.fields[n][0] for n in natural.names],
                     "offsets": [natural.fields[n][1] for n in natural.names],
                     "itemsize": -(-natural.itemsize // CACHE_LINE) * CACHE_LINE})


LIVE_DTYPE = _set_layout()     # every instrument's parameters, by instrument id


def encode_all(params: "list[QuoteParams]") -> np.ndarray:
    """One QuoteParams per instrument id as a one-record array of LIVE_DTYPE."""
    if len(params) > MAX_INSTRUMENTS:
        raise ValueError(f"{len(params)} instruments: the live parameters record holds {MAX_INSTRUMENTS}")
    rec = np.zeros(1, LIVE_DTYPE)
    rec["n_instruments"] = len(params)
    for i, p in enumerate(params):
        rec[0]["params"][i] = encode(p)[0]
    return rec


def decode_all(rec: np.ndarray) -> "tuple[QuoteParams, ...]":
    """The QuoteParams of every instrument id a LIVE_DTYPE record holds (not validated)."""
    n = min(int(rec[0]["n_instruments"]), MAX_INSTRUMENTS)
    return tuple(decode(rec[0]["params"][i:i + 1]) for i in range(n))


def encode(params: QuoteParams, out: np.ndarray | None = None) -> np.ndarray:
    """``params`` as a one-record array of PARAMS_DTYPE (ValueError if a value does not fit)."""
    rec = np.zeros(1, PARAMS_DTYPE) if out is None else out
    for f in _FIELDS:
        value, hint = getattr(params, f.name), _HINTS[f.name]
        if hint is tuple:
            if len(value) > f.metadata["max_len"]:
                raise ValueError(f"quoter.{f.name} has {len(value)} values: at most {f.metadata['max_len']}")
            rec[f"n_{f.name}"] = len(value)
            rec[f.name][0][:len(value)] = value
        elif hint is str:
            text = value.encode("ascii")
            if len(text) > TEXT_BYTES:
                raise ValueError(f"quoter.{f.name}={value!r}: at most {TEXT_BYTES} ASCII characters")
            rec[f.name] = text
        else:
            rec[f.name] = value
    return rec


def decode(rec: np.ndarray) -> QuoteParams:
    """The QuoteParams a record holds (not validated: the caller does that)."""
    r = rec[0]
    values = {}
    for f in _FIELDS:
        hint = _HINTS[f.name]
        if hint is tuple:
            n = min(int(r[f"n_{f.name}"]), f.metadata["max_len"])
            values[f.name] = tuple(r[f.name][:n].tolist())
        elif hint is str:
            values[f.name] = bytes(r[f.name]).decode("ascii", errors="replace")
        else:
            values[f.name] = hint(r[f.name].item())
    return QuoteParams(**values)


class LiveParamsWriter:
    """The supervisor's side: owns the segment, publishes validated parameters."""

    def __init__(self, record: SeqlockRecord):
        self.record = record

    @classmethod
    def create(cls, instance: str) -> "LiveParamsWriter":
        return cls(SeqlockRecord.create(segment_name(instance, SEGMENT), LIVE_DTYPE))

    def publish(self, params: "list[QuoteParams]") -> int:
        """Validate each instrument's parameters (in instrument id order), then replace the record
        whole; returns its new sequence."""
        return self.record.write(encode_all([p.validate("live params") for p in params]))

    @property
    def sequence(self) -> int:
        return self.record.sequence

    def close(self) -> None:
        self.record.close()


class LiveParamsReader:
    """The quoter's side: ``changed()`` once per pass, ``take()`` when it says so."""

    def __init__(self, record: SeqlockRecord):
        self.record = record
        self.taken = 0               # sequence of the last record taken or refused
        self.torn = self.refused = 0
        self._buf = np.zeros(1, LIVE_DTYPE)

    @classmethod
    def attach(cls, instance: str) -> "LiveParamsReader":
        return cls(SeqlockRecord.attach(segment_name(instance, SEGMENT), LIVE_DTYPE))

    def changed(self) -> bool:
        """A write completed (or is under way) since the last take: one atomic load."""
        return self.record.sequence != self.taken

    def take(self) -> "tuple[QuoteParams, ...] | None":
        """The newest parameters, one per instrument id, or None: nothing new, a copy torn by a
        write under way (the next call tries again), or a record that fails validation (refused
        whole, logged once)."""
        seq = self.record.read_into(self._buf)
        if seq == 0:
            self.torn += self.record.sequence != 0
            return None
        if seq == self.taken:
            return None
        self.taken = seq
        try:
            return tuple(p.validate("live params") for p in decode_all(self._buf))
        except (ValueError, TypeError) as exc:
            self.refused += 1
            log.error("live parameters %d refused, keeping the current ones: %s", seq // 2, exc)
            return None

    def close(self) -> None:
        self.record.close()
