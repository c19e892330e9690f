"""Thalex identifiers as exact integers, and back to the exchange's text.

Thalex sends ids as strings: an order id is 16 hex digits (``"001F39C500000000"``, a u64), a
trade id 32 hex digits (``"0080000000000000169F22D05B785A2B"``, a u128). Records carry them as
their exact values (order_id: u64; trade_id_hi / trade_id_lo: the u128's halves), so two different
ids never compare equal, however many trades a run sees.

The rule for an id string:

* 1 to 16 (order) or 1 to 32 (trade) hex digits, either case: the hex number. A shorter string is
  the same number with leading zeros implied, so a decimal-looking id from old data or an older
  local exchange (``"5000000001"``) stays exact: distinct strings without leading zeros are
  distinct numbers.
* anything else (empty, longer, a sign, ``0x``, spaces, underscores, a JSON number where the spec
  says string): IdError (a ValueError) / TypeError naming the field, the value and the form
  expected; the decoders turn that into a rejected frame (reason BAD_VALUE / BAD_TYPE), never
  into a guess.
* all zeros: refused too, since 0 means "no id" in every record.

Written back (recorder, logs) as upper-case hex of the full width: ``order_id_hex(int) -> 16
digits``, ``trade_id_hex(int) -> 32 digits``. Client order ids are ours: numbers (u64), as the spec
has them.
"""
from __future__ import annotations

import re

ORDER_ID_DIGITS = 16
TRADE_ID_DIGITS = 32
MAX_U64 = (1 << 64) - 1

_order_hex = re.compile(r"[0-9A-Fa-f]{1,16}").fullmatch
_trade_hex = re.compile(r"[0-9A-Fa-f]{1,32}").fullmatch
_decimal = re.compile(r"[0-9]{1,20}").fullmatch


class IdError(ValueError):
    """An id string that is not of the exchange's form (the message names field and value)."""


def _refuse(value, match, what: str, digits: int):
    """Raise the error that says why ``value`` is no id (the slow path: only bad input gets here)."""
    if type(value) is not str:
        raise TypeError(f"{what}={value!r}: expected a string of {digits} hex digits")
    if match(value) is not None:
        raise IdError(f"{what}={value!r}: 0 is no id")
    raise IdError(f"{what}={value!r}: expected 1 to {digits} hex digits")


def order_id(value) -> int:
    """The exact u64 of an order id string (``"001F39C500000000"`` -> 0x001F39C500000000)."""
    if type(value) is str and _order_hex(value) is not None:
        number = int(value, 16)
        if number:
            return number
    return _refuse(value, _order_hex, "order_id", ORDER_ID_DIGITS)


def trade_id(value) -> int:
    """The exact u128 of a trade id string (split it with shm.records.split_trade_id)."""
    if type(value) is str and _trade_hex(value) is not None:
        number = int(value, 16)
        if number:
            return number
    return _refuse(value, _trade_hex, "trade_id", TRADE_ID_DIGITS)


def client_order_id(value) -> int:
    """Our own client order id as echoed: a JSON integer (or its decimal string) in 0..2**64-1."""
    if type(value) is str and _decimal(value) is not None:
        value = int(value)
    if type(value) is not int:
        raise TypeError(f"client_order_id={value!r}: expected an integer")
    if not 0 <= value <= MAX_U64:
        raise IdError(f"client_order_id={value}: expected 0..2**64-1")
    return value


def order_id_hex(number: int) -> str:
    """The exchange's text of an order id: 16 upper-case hex digits (0 -> "" : no order)."""
    return f"{number:016X}" if number else ""


def trade_id_hex(number: int) -> str:
    """The exchange's text of a trade id: 32 upper-case hex digits (0 -> "" : no trade)."""
    return f"{number:032X}" if number else ""
