"""Reading request parameters: each helper returns a clean value or raises ApiError naming the
parameter, the value received and what was expected."""
from __future__ import annotations

import math

from .errors import (ApiError, BAD_AMOUNT, BAD_PRICE, INVALID_REQUEST, PRICE_NOT_ON_TICK,
                     UNKNOWN_INSTRUMENT)
from .instruments import Instrument, round8

LABEL_MAX = 64
CLIENT_ORDER_ID_MAX = 2**64 - 1


def _bad(name: str, value, expected: str) -> ApiError:
    return ApiError(INVALID_REQUEST, f"{name}={value!r}: expected {expected}")


def require(params: dict, name: str):
    if name not in params or params[name] is None:
        raise ApiError(INVALID_REQUEST, f"missing parameter {name!r}")
    return params[name]


def string(params: dict, name: str, default: str | None = None, choices=None,
           required: bool = False) -> str | None:
    value = require(params, name) if required else params.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, value, "a string")
    if choices is not None and value not in choices:
        raise _bad(name, value, "one of " + "|".join(choices))
    return value


def boolean(params: dict, name: str, default: bool = False) -> bool:
    value = params.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(name, value, "true or false")
    return value


def number(params: dict, name: str, required: bool = True, default: float | None = None):
    """A finite JSON number (bool is not a number here)."""
    value = require(params, name) if required else params.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(name, value, "a finite number")
    return float(value)


def integer(params: dict, name: str, lo: int = 0, hi: int = 2**63, required: bool = False):
    value = require(params, name) if required else params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(name, value, f"an integer in [{lo}, {hi}]")
    return value


def instrument(params: dict, instruments: dict[str, Instrument], name: str = "instrument_name"):
    value = string(params, name, required=True)
    found = instruments.get(value)
    if found is None:
        raise ApiError(UNKNOWN_INSTRUMENT,
                       f"{name}={value!r}: unknown instrument (listed: {', '.join(instruments)})")
    return found


def price(value, instr: Instrument, name: str = "price") -> float:
    """A positive price on the instrument's tick, rounded to 8 digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(BAD_PRICE, f"{name}={value!r}: expected a finite positive number")
    p = round8(value)
    if p <= 0:
        raise ApiError(BAD_PRICE, f"{name}={value!r}: expected a price > 0")
    if not instr.price_on_tick(p):
        raise ApiError(PRICE_NOT_ON_TICK, f"{name}={value!r}: not a multiple of the tick size "
                                          f"{instr.tick_size} of {instr.instrument_name}")
    return p


def amount(value, instr: Instrument, name: str = "amount", allow_zero: bool = False) -> float:
    """An amount on the volume tick and at least the minimum order size."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(BAD_AMOUNT, f"{name}={value!r}: expected a finite positive number")
    a = round8(value)
    if allow_zero and a == 0:
        return 0.0
    if a < instr.min_order_amount - 1e-12:
        raise ApiError(BAD_AMOUNT, f"{name}={value!r}: below the minimum order amount "
                                   f"{instr.min_order_amount} of {instr.instrument_name}")
    if not instr.amount_on_tick(a):
        raise ApiError(BAD_AMOUNT, f"{name}={value!r}: not a multiple of the volume tick size "
                                   f"{instr.volume_tick_size} of {instr.instrument_name}")
    return a


def label(params: dict) -> str | None:
    value = params.get("label")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > LABEL_MAX:
        raise _bad("label", value, f"a string of at most {LABEL_MAX} characters")
    return value


def channels(params: dict) -> list[str]:
    value = require(params, "channels")
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise _bad("channels", value, "a list of channel name strings")
    return value
