"""Record layouts: every dtype matches the C struct the Cython code uses, byte for byte."""
import numpy as np
import pytest

from testkit import layout_probe as _layout
from shm.records import RECORDS, CACHE_LINE

C_LAYOUTS = _layout.c_layouts()


@pytest.mark.parametrize("struct", sorted(RECORDS))
def test_record_size_is_a_multiple_of_a_cache_line_and_equals_sizeof(struct):
    dtype = RECORDS[struct]
    assert dtype.itemsize % CACHE_LINE == 0
    assert dtype.itemsize == C_LAYOUTS[struct][0]


@pytest.mark.parametrize("struct", sorted(RECORDS))
def test_every_field_has_the_c_offset_and_size(struct):
    dtype = RECORDS[struct]
    c_fields = C_LAYOUTS[struct][1]
    assert set(dtype.names) == set(c_fields), "field names differ between dtype and C struct"
    for name in dtype.names:
        field_dtype, offset = dtype.fields[name][:2]
        assert (offset, field_dtype.itemsize) == c_fields[name], name


@pytest.mark.parametrize("struct", sorted(RECORDS))
def test_type_is_the_first_field_and_zero_means_empty(struct):
    dtype = RECORDS[struct]
    assert dtype.fields["type"][1] == 0
    assert np.zeros(1, dtype)["type"][0] == 0


def test_every_field_is_naturally_aligned():
    for struct, dtype in RECORDS.items():
        for name in dtype.names:
            field_dtype, offset = dtype.fields[name][:2]
            assert offset % field_dtype.base.alignment == 0, (struct, name)
