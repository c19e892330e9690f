"""Live quoter parameters: the supervisor publishes them in shared memory, the quoter takes them.

``bin/mmctl set quoter.KEY=VALUE`` is validated by the supervisor (runtime/main.validate_set: a
refused value changes nothing). The accepted parameters, complete, are written whole into the
seqlocked record ``mm.<instance>.params`` (shm/seqlock.pyx), also once at start. The quoter
compares the record's sequence with the last one it took once per pass (one atomic load); only
when it moved does it copy the record, rebuild a QuoteParams and validate it again before its
engines take it, keeping their estimator state (QuoteParams.estimators_to_rebuild). A copy torn
by a concurrent write is discarded and taken again on the next pass; no file is read.

The record is derived from QuoteParams' fields, so a new parameter needs no edit here::

    float -> f8    int -> i8    bool -> u1    str -> S16 (ASCII)
    tuple -> f8[max_len] (the field's metadata) and n_<name> (u4): how many values are used
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
        return cls(SeqlockRecord.create(segment_name(instance, SEGMENT), PARAMS_DTYPE))

    def publish(self, params: QuoteParams) -> int:
        """Validate, then replace the record whole; returns its new sequence."""
        return self.record.write(encode(params.validate("live params")))

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
        self._buf = np.zeros(1, PARAMS_DTYPE)

    @classmethod
    def attach(cls, instance: str) -> "LiveParamsReader":
        return cls(SeqlockRecord.attach(segment_name(instance, SEGMENT), PARAMS_DTYPE))

    def changed(self) -> bool:
        """A write completed (or is under way) since the last take: one atomic load."""
        return self.record.sequence != self.taken

    def take(self) -> QuoteParams | None:
        """The newest parameters, or None: nothing new, a copy torn by a write under way (the
        next call tries again), or a record that fails validation (refused, logged once)."""
        seq = self.record.read_into(self._buf)
        if seq == 0:
            self.torn += self.record.sequence != 0
            return None
        if seq == self.taken:
            return None
        self.taken = seq
        try:
            return decode(self._buf).validate("live params")
        except (ValueError, TypeError) as exc:
            self.refused += 1
            log.error("live parameters %d refused, keeping the current ones: %s", seq // 2, exc)
            return None

    def close(self) -> None:
        self.record.close()
