"""``struct`` packers that write a whole shm record in one call, checked against shm/records.py.

Assigning a dozen NumPy fields by name costs about 150 ns each; one ``Struct.pack_into`` of the
record's fields costs about 300 ns in all, which is what lets the feed decode 200k+ frames/s.
Each format is derived by hand from the record diagram and verified field by field against the
dtype's offsets when this module is imported, so a layout change fails loudly here.
"""
from __future__ import annotations

import struct

import numpy as np

from shm.records import EXEC_DTYPE, MD_DTYPE, TRADE_DTYPE

# (struct format, field names in order; None = padding byte)
_MD_FIELDS = ("<HHIQqq9dq", ["type", "flags", "instrument_id", "seq", "exchange_ts_ns", "receive_ts_ns",
                             "best_bid_price", "best_bid_amount", "best_ask_price", "best_ask_amount",
                             "mark_price", "index_price", "last_price", "last_amount", "funding_rate",
                             "publish_ts_ns"])
_TRADE_FIELDS = ("<HbxIQQqqdd", ["type", "side", None, "instrument_id", "seq", "trade_id",
                                 "exchange_ts_ns", "receive_ts_ns", "price", "amount"])
_EXEC_FIELDS = ("<HbBIQQQQqq6di", ["type", "side", "liquidity", "instrument_id", "seq", "client_order_id",
                                   "order_id", "trade_id", "exchange_ts_ns", "receive_ts_ns", "price",
                                   "amount", "remaining", "position", "fee", "realised_pnl", "reason"])


def _checked(dtype: np.dtype, fmt: str, names: list) -> struct.Struct:
    """The Struct for ``fmt`` after checking each field's offset and size against ``dtype``."""
    offset = 0
    codes = struct.Struct(fmt)
    counts, i = [], 1
    while i < len(fmt):  # expand "9d" into nine "d"
        j = i
        while fmt[j].isdigit():
            j += 1
        counts.extend([fmt[j]] * (int(fmt[i:j]) if j > i else 1))
        i = j + 1
    if len(counts) != len(names):
        raise AssertionError(f"{fmt}: {len(counts)} struct items but {len(names)} names")
    for code, name in zip(counts, names):
        size = struct.calcsize("<" + code)
        if name is not None:
            field_dtype, field_offset = dtype.fields[name][:2]
            if field_offset != offset or field_dtype.itemsize != size:
                raise AssertionError(f"{name}: struct offset {offset} size {size} but dtype offset "
                                     f"{field_offset} size {field_dtype.itemsize}")
        offset += size
    assert codes.size == offset <= dtype.itemsize
    return codes


MD_STRUCT = _checked(MD_DTYPE, *_MD_FIELDS)
TRADE_STRUCT = _checked(TRADE_DTYPE, *_TRADE_FIELDS)
EXEC_STRUCT = _checked(EXEC_DTYPE, *_EXEC_FIELDS)


def writable_records(out: np.ndarray, dtype: np.dtype, name: str = "out") -> np.ndarray:
    """``out`` itself if it is a C-contiguous, writable array of ``dtype``; else a clear TypeError."""
    if not isinstance(out, np.ndarray) or out.dtype != dtype:
        raise TypeError(f"{name}: expected a numpy array of {dtype.names and len(dtype.names)}-field "
                        f"records ({dtype.itemsize} B each, e.g. shm.records.empty(...)), got "
                        f"{type(out).__name__} {getattr(out, 'dtype', '')}")
    if not (out.flags.c_contiguous and out.flags.writeable) or out.size < 1:
        raise TypeError(f"{name}: expected a writable, C-contiguous array of at least one record")
    return out
