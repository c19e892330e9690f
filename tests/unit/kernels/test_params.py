"""QuoteParams.validate names the field, the value and the allowed range."""
import dataclasses
import math

import pytest

from kernels.params import QuoteParams


def test_defaults_are_valid():
    assert QuoteParams().validate() == QuoteParams()


@pytest.mark.parametrize("field,value,message", [
    ("levels", 11, "levels=11 in conf/x.toml: must be within 1..10 (levels per side)"),
    ("sigma_floor", -1.0, "sigma_floor=-1.0 in conf/x.toml: must be within 0.0..1000000.0 (USD/sqrt(s))"),
    ("gamma", 0.0, "gamma=0.0 in conf/x.toml: must be > 0 and <= 1000000.0 (1/(USD x contract))"),
    ("size_multipliers", (1, 0) * 5, "size_multipliers=(1, 0, 1, 0, 1, 0, 1, 0, 1, 0) in conf/x.toml: each value must be > 0"),
    ("intensity_depths_ticks", tuple(range(33)), "intensity_depths_ticks=.* in conf/x.toml: holds at most 32 values"),
    ("markout_horizon_s", 2.0, "markout_horizon_s=2.0 in conf/x.toml: expected one of 1.0, 5.0, 30.0"),
    ("gamma", math.nan, "gamma=nan in conf/x.toml: must be a finite number"),
    ("size_multipliers", (1, 2), "size_multipliers=(1, 2) in conf/x.toml: need 10 values"),
    ("intensity_depths_ticks", (0, 0), "intensity_depths_ticks=(0, 0) in conf/x.toml"),
    ("min_spread_ticks", 5000.0, "max_spread_ticks=2000.0 in conf/x.toml: must be >= min_spread_ticks"),
    ("maker_fee_rate", 0.5, "maker_fee_rate=0.5 in conf/x.toml: must be within -0.01..0.01"),
])
def test_each_bad_value_is_named(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(QuoteParams(), **{field: value}).validate("conf/x.toml")
