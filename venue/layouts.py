"""``struct`` packers that write a whole shm record in one call, derived from shm/records.py.

Assigning a dozen NumPy fields by name costs about 150 ns each; one ``Struct.pack_into`` of the
record's fields costs about 300 ns in all, which is what lets the feed decode 200k+ frames/s.
Each format is derived from the record's dtype (a code per field in offset order, ``x`` for
padding, trailing reserved bytes left untouched), so a layout change in shm/records.py changes the
packer with it. ``pack_into(buf, offset, *values)`` takes the values in field order
(``<STRUCT>_FIELDS`` names them, the byte diagram draws them).
"""
from __future__ import annotations

import struct

import numpy as np

from shm.records import EXEC_DTYPE, MD_DTYPE, TRADE_DTYPE

# NumPy scalar kind + size -> struct code (records hold little-endian fixed-width scalars only).
_CODES = {("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q",
          ("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q",
          ("f", 4): "f", ("f", 8): "d"}


def struct_of(dtype: np.dtype) -> tuple[struct.Struct, tuple[str, ...]]:
    """The little-endian Struct packing every field of ``dtype`` in offset order, and their names.

    An array field contributes one code per element. Raises ValueError for a field with no struct
    code or a layout the format cannot reproduce (checked: the Struct places each field at the
    dtype's offset).
    """
    fmt, names, end = ["<"], [], 0
    for name in sorted(dtype.names, key=lambda n: dtype.fields[n][1]):
        field, offset = dtype.fields[name][:2]
        code = _CODES.get((field.base.kind, field.base.itemsize))
        if code is None or field.base.byteorder == ">" or len(field.shape) > 1:
            raise ValueError(f"{name}: dtype {field} has no struct code")
        if offset < end:
            raise ValueError(f"{name}: overlaps the field before it (offset {offset} < {end})")
        if offset > end:
            fmt.append(f"{offset - end}x")
        count = field.shape[0] if field.shape else 1
        fmt.append(f"{count}{code}" if count > 1 else code)
        names.append(name)
        end = offset + field.itemsize
    packer = struct.Struct("".join(fmt))
    if packer.size != end or end > dtype.itemsize:
        raise ValueError(f"{dtype}: struct {packer.format!r} is {packer.size} B, fields end at {end}")
    return packer, tuple(names)


MD_STRUCT, MD_FIELDS = struct_of(MD_DTYPE)
TRADE_STRUCT, TRADE_FIELDS = struct_of(TRADE_DTYPE)
EXEC_STRUCT, EXEC_FIELDS = struct_of(EXEC_DTYPE)


def writable_records(out: np.ndarray, dtype: np.dtype, name: str = "out") -> np.ndarray:
    """``out`` itself if it is a C-contiguous, writable array of ``dtype``; else a clear TypeError."""
    if not isinstance(out, np.ndarray) or out.dtype != dtype:
        raise TypeError(f"{name}: expected a numpy array of {dtype.names and len(dtype.names)}-field "
                        f"records ({dtype.itemsize} B each, e.g. shm.records.empty(...)), got "
                        f"{type(out).__name__} {getattr(out, 'dtype', '')}")
    if not (out.flags.c_contiguous and out.flags.writeable) or out.size < 1:
        raise TypeError(f"{name}: expected a writable, C-contiguous array of at least one record")
    return out
