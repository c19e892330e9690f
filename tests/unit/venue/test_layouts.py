"""The struct packers write exactly the NumPy record layout, and a drifted layout is caught."""
import numpy as np
import pytest

from venue import layouts
from venue.layouts import EXEC_STRUCT, MD_STRUCT, TRADE_STRUCT, _checked
from shm.records import EXEC_DTYPE, MD_DTYPE, TRADE_DTYPE


@pytest.mark.parametrize("packer, dtype, fields", [
    (MD_STRUCT, MD_DTYPE, layouts._MD_FIELDS[1]),
    (TRADE_STRUCT, TRADE_DTYPE, layouts._TRADE_FIELDS[1]),
    (EXEC_STRUCT, EXEC_DTYPE, layouts._EXEC_FIELDS[1]),
])
def test_packing_distinct_values_lands_each_in_its_named_field(packer, dtype, fields):
    out = np.zeros(2, dtype)
    names = [f for f in fields if f is not None]
    values = [i + 1 for i in range(len(names))]
    packer.pack_into(out, dtype.itemsize, *values)  # the second record
    for name, value in zip(names, values):
        assert out[1][name] == value, name
    assert out[0].tobytes() == bytes(dtype.itemsize)


def test_a_struct_format_that_drifted_from_the_dtype_is_refused():
    names = list(layouts._MD_FIELDS[1])
    names[6], names[7] = names[7], names[6]  # same sizes: only the names' offsets betray it
    with pytest.raises(AssertionError, match="best_bid_amount: struct offset 32"):
        _checked(MD_DTYPE, layouts._MD_FIELDS[0], names)
    with pytest.raises(AssertionError, match="struct items"):
        _checked(MD_DTYPE, "<HHIQqq8dq", layouts._MD_FIELDS[1])
