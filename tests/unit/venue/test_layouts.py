"""The struct packers, derived from the dtypes, write exactly the NumPy record layout."""
import numpy as np
import pytest

from shm.records import EXEC_DTYPE, MD_DTYPE, QUOTE_DTYPE, TRADE_DTYPE, describe
from venue.layouts import (EXEC_FIELDS, EXEC_STRUCT, MD_FIELDS, MD_STRUCT, TRADE_FIELDS,
                           TRADE_STRUCT, struct_of)


@pytest.mark.parametrize("packer, dtype, fields", [
    (MD_STRUCT, MD_DTYPE, MD_FIELDS),
    (TRADE_STRUCT, TRADE_DTYPE, TRADE_FIELDS),
    (EXEC_STRUCT, EXEC_DTYPE, EXEC_FIELDS),
])
def test_packing_distinct_values_lands_each_in_its_named_field(packer, dtype, fields):
    assert set(fields) == set(dtype.names)
    out = np.zeros(2, dtype)
    values = [i + 1 for i in range(len(fields))]
    packer.pack_into(out, dtype.itemsize, *values)  # the second record
    for name, value in zip(fields, values):
        assert out[1][name] == value, name
    assert out[0].tobytes() == bytes(dtype.itemsize)


def test_padding_inside_a_record_is_skipped_by_name_and_written_as_zero():
    packer, names = struct_of(TRADE_DTYPE)
    assert names[:3] == ("type", "side", "instrument_id")   # byte 3 is padding
    out = np.frombuffer(bytearray(b"\xff" * TRADE_DTYPE.itemsize), TRADE_DTYPE).copy()
    packer.pack_into(out, 0, *range(1, len(names) + 1))
    assert out.view("u1")[3] == 0 and out["instrument_id"][0] == 3


def test_a_layout_change_in_the_dtype_changes_the_packer_with_it():
    moved = describe("Moved", [("type", "<u2"), ("_pad0", "V6"), ("price", "<f8"), ("ids", "(3,)<u8")], 64)
    packer, names = struct_of(moved)
    assert packer.format == "<H6xd3Q" and names == ("type", "price", "ids")
    out = np.zeros(1, moved)
    packer.pack_into(out, 0, 7, 1.5, 10, 11, 12)
    assert out["type"][0] == 7 and out["price"][0] == 1.5 and list(out["ids"][0]) == [10, 11, 12]


def test_array_fields_take_one_value_per_element():
    packer, names = struct_of(QUOTE_DTYPE)
    assert packer.size == QUOTE_DTYPE.fields["ask_amount"][1] + QUOTE_DTYPE.fields["ask_amount"][0].itemsize
    assert names[-1] == "ask_amount"


def test_a_field_with_no_struct_code_is_refused_with_its_name():
    with pytest.raises(ValueError, match="label: dtype"):
        struct_of(describe("Bad", [("type", "<u2"), ("label", "S6")], 64))
