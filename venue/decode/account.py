"""Private account data that is not an order update: trade reports, the portfolio, mass-quote
results. Not hot: plain dict reads, one record or value at a time.

* ``trade_report_into``: one Trade object (``private/trade_history`` or ``account.trade_history``)
  into an EXEC_TRADE record; numbers beyond venue/decode/bounds.py (a fee above 1 % of the
  notional, a price of 1e300) are refused. The spec marks every Trade field optional; we need trade_id,
  instrument_name, direction, price and amount. ``fee`` and ``maker_taker`` may be absent (the
  spec's own trade_history example has neither): the fee is then NaN, "unknown", so that whoever
  books it keeps the fee it already has instead of taking 0, and liquidity is 0 (unknown).
* ``portfolio_positions``: ``private/portfolio`` as {instrument: position} for the names we trade.
* ``mass_quote_errors``: the ``errors`` of a DoubleSidedQuoteResult as QuoteError tuples.

Each returns or raises with a reason that names the field and the value; none crashes on input.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from venue.decode.bounds import amount_ok, fee_ok, position_ok, price_ok
from venue.decode.market import NUMBER_TYPES, SIDES, _ts_ns
from shm.records import split_trade_id
from venue import ids
from venue.reasons import (BAD_AMOUNT, BAD_PRICE, BAD_TYPE, BAD_VALUE, MISSING_FIELD, NOT_OBJECT,
                           OTHER_TRADE_TYPE, UNKNOWN_INSTRUMENT)
from shm.records import EXEC_TRADE, LIQ_MAKER, LIQ_TAKER

LIQUIDITY = {"maker": LIQ_MAKER, "taker": LIQ_TAKER}


def trade_report_into(t, instrument_ids: dict[str, int], out: np.ndarray, receive_ts_ns: int) -> int:
    """``out[0]`` = the EXEC_TRADE record of Trade ``t``; 1, or -reason (nothing written).

    Skipped with a reason of their own: instruments we do not trade (UNKNOWN_INSTRUMENT) and
    trade types other than ``normal`` (OTHER_TRADE_TYPE: daily marks, expirations...).
    """
    if type(t) is not dict:
        return -NOT_OBJECT
    try:
        iid = instrument_ids.get(t["instrument_name"], -1)
        if iid < 0:
            return -UNKNOWN_INSTRUMENT
        if t.get("trade_type", "normal") != "normal":
            return -OTHER_TRADE_TYPE
        side = SIDES.get(t["direction"])
        if side is None:
            return -BAD_VALUE
        price, amount = t["price"], t["amount"]
        if type(price) not in NUMBER_TYPES or type(amount) not in NUMBER_TYPES:
            return -BAD_TYPE
        if not price_ok(price):
            return -BAD_PRICE
        if not amount_ok(amount):
            return -BAD_AMOUNT
        fee = _optional_number(t, "fee")
        position = _optional_number(t, "position_after")
        # NaN (absent) passes both: unknown, not wrong
        if fee == fee and not fee_ok(fee, price, amount) or position == position and not position_ok(position):
            return -BAD_VALUE
        liquidity = 0 if t.get("maker_taker") is None else LIQUIDITY.get(t["maker_taker"], -1)
        if liquidity < 0:
            return -BAD_VALUE
        trade_id = ids.trade_id(t["trade_id"])
        order_id = ids.order_id(t["order_id"]) if t.get("order_id") is not None else 0
        when = t.get("time")
        ts_ns = _ts_ns(when) if when is not None else 0
    except KeyError:
        return -MISSING_FIELD
    except (TypeError, ValueError, OverflowError):
        return -BAD_TYPE
    rec = out[0:1]
    rec[0] = 0
    rec["type"], rec["instrument_id"], rec["side"], rec["liquidity"] = EXEC_TRADE, iid, side, liquidity
    rec["trade_id_hi"], rec["trade_id_lo"] = split_trade_id(trade_id)
    rec["order_id"] = order_id
    rec["price"], rec["amount"], rec["fee"], rec["position"] = price, amount, fee, position
    rec["exchange_ts_ns"], rec["receive_ts_ns"] = ts_ns, receive_ts_ns
    return 1


def _optional_number(t: dict, key: str) -> float:
    """A finite number, or NaN when absent or null (unknown); TypeError for anything else."""
    value = t.get(key)
    if value is None:
        return math.nan
    if type(value) not in NUMBER_TYPES or not math.isfinite(value):
        raise TypeError(key)
    return float(value)


def portfolio_positions(items, names) -> dict[str, float]:
    """{name: position} for each of ``names`` (0.0 when the portfolio has no line for it).

    Lines of other instruments are ignored. Raises ValueError naming the line and the field when
    the result is not a list of PortfolioEntry or a line of ours is unreadable: a portfolio read
    half right must not be adopted as the position.
    """
    if type(items) is not list:
        raise ValueError(f"private/portfolio result {items!r:.80}: expected a list of PortfolioEntry")
    held = {name: 0.0 for name in names}
    for line in items:
        if type(line) is not dict:
            raise ValueError(f"portfolio line {line!r:.80}: expected an object")
        name = line.get("instrument_name")
        if name not in held:
            continue
        position = line.get("position")
        if type(position) not in NUMBER_TYPES or not math.isfinite(position) or not position_ok(position):
            raise ValueError(f"portfolio line of {name}: position={position!r}: expected a number of "
                             "contracts within +/-1e6")
        held[name] = float(position)
    return held


class QuoteError(NamedTuple):
    """One item of a mass quote's ``errors`` (spec DoubleSidedQuoteResult)."""

    code: int                 # Thalex error code; 0 when the item carried none we could read
    message: str
    side: str | None = None   # optional in the spec ("bid"/"ask" on the local exchange)
    price: float | None = None


def mass_quote_errors(result) -> list[QuoteError]:
    """The errors of a ``private/mass_quote`` result; ValueError if it is no DoubleSidedQuoteResult.

    A malformed error item becomes a QuoteError with code 0 and a message saying what it was,
    so a failure is never lost because its report was odd.
    """
    if type(result) is not dict:
        raise ValueError(f"mass_quote result {result!r:.80}: expected {{n_success, n_fail, errors}}")
    for key in ("n_success", "n_fail"):
        if type(result.get(key)) not in NUMBER_TYPES:
            raise ValueError(f"mass_quote result {key}={result.get(key)!r}: expected a number")
    items = result.get("errors")
    if type(items) is not list:
        raise ValueError(f"mass_quote result errors={items!r:.80}: expected a list")
    out = []
    for item in items:
        code = item.get("code") if type(item) is dict else None
        if type(code) not in NUMBER_TYPES or not math.isfinite(code) or code != int(code):
            out.append(QuoteError(0, f"unreadable mass quote error item {item!r:.120}"))
            continue
        side, price, message = item.get("side"), item.get("price"), item.get("message")
        out.append(QuoteError(int(code), message if type(message) is str else "",
                              side if type(side) is str else None,
                              float(price) if type(price) in NUMBER_TYPES else None))
    return out
