"""``session.orders`` / ``account.orders`` OrderStatus items into EXEC_DTYPE events.

One OrderStatus update becomes, in this order:

* EXEC_ACK    when change_reason is ``insert`` or ``existing`` (the snapshot on subscribe);
* EXEC_AMEND  when change_reason is ``amend``;
* EXEC_FILL   for every new fill in ``fills`` (price, amount, maker/taker, trade id), skipped
  for ``existing`` items, whose ``fills`` repeat every fill the order ever had;
* EXEC_CANCEL when the order is closed without being filled out (status ``cancelled`` or
  ``cancelled_partially_filled``), with ``reason`` = the delete_reason code below.

A fill whose (trade id, order id) was already reported is dropped and counted (DUPLICATE_FILL): a
replayed or duplicated frame must never double a position. An update for an instrument we do not
trade, or for a combination order (``legs`` instead of ``instrument_name``), is skipped and its
reason reported to the caller (UNKNOWN_INSTRUMENT, COMBINATION_ORDER); the rest of the frame goes
on. Ids are kept exactly (venue/ids.py): the order id (16 hex digits) as its u64, the trade id
(32 hex digits) as its u128 in trade_id_hi / trade_id_lo; an id of any other form rejects the
frame (BAD_VALUE or BAD_TYPE).
Numbers are checked against venue/decode/bounds.py: an absurd price or amount, a remaining amount
above the order's amount or one fill above it rejects the frame (BAD_PRICE, BAD_AMOUNT).
Position and P&L are not carried by order updates: ``position`` is NaN, ``fee`` and
``realised_pnl`` 0 (the gateway fills them from the portfolio / trade history).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from venue import ids
from venue.decode.bounds import amount_ok, price_ok
from venue.decode.market import _ERRORS, NAN, NUMBER_TYPES, SIDES, _ts_ns
from venue.layouts import EXEC_STRUCT
from venue.reasons import (BAD_AMOUNT, BAD_PRICE, BAD_TYPE, BAD_VALUE, COMBINATION_ORDER,
                           MISSING_FIELD, NOT_OBJECT, UNKNOWN_INSTRUMENT)
from shm.records import (EXEC_ACK, EXEC_AMEND, EXEC_CANCEL, EXEC_DTYPE, EXEC_FILL, LIQ_MAKER,
                         LIQ_TAKER)

EXEC_SIZE = EXEC_DTYPE.itemsize
_pack_exec = EXEC_STRUCT.pack_into

#: ExecEvent.reason for EXEC_CANCEL (0 = unknown / not deleted).
DELETE_REASONS = {
    "client_cancel": 1, "client_bulk_cancel": 2, "session_end": 3, "instrument_deactivated": 4,
    "mm_protection": 5, "failover": 6, "margin_breach": 7, "filled": 8, "immediate_cancel": 9,
    "admin_cancel": 10, "replaced": 11, "self_trade_prevention": 12,
}
LIQUIDITY = {"maker": LIQ_MAKER, "taker": LIQ_TAKER}
CLOSED_UNFILLED = frozenset(("cancelled", "cancelled_partially_filled"))
U64_MASK = (1 << 64) - 1


class SeenFills:
    """The last ``capacity`` (trade id, order id) pairs reported, to drop duplicated fills (FIFO
    eviction). Keys are exact: the u128 trade id and the u64 order id.

    A set answers "seen?" and a deque remembers the order to forget in: O(1) per fill. (Evicting
    the oldest key of a dict with ``next(iter(d))`` walks the deleted slots at its front, about
    15 us a fill once the window is full.)
    """

    __slots__ = ("capacity", "_ids", "_order")

    def __init__(self, capacity: int = 16384):
        self.capacity = capacity
        self._ids: set[tuple[int, int]] = set()
        self._order: deque[tuple[int, int]] = deque()

    def add(self, key: tuple[int, int]) -> bool:
        """True if ``key`` is new (and now remembered), False if it was seen before."""
        if key in self._ids:
            return False
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self.capacity:
            self._ids.discard(self._order.popleft())
        return True


def events_needed(items) -> int:
    """An upper bound of the events ``orders_into`` writes for ``items`` (to size buffers)."""
    if type(items) is not list:
        return 0
    n = 0
    for item in items:
        if type(item) is dict:
            fills = item.get("fills")
            n += 2 + (len(fills) if type(fills) is list else 0)
    return n


def _amount(value, allow_zero: bool = True) -> float:
    if type(value) not in NUMBER_TYPES:
        raise TypeError("amount")
    if not amount_ok(value, allow_zero):   # NaN, inf, negative, absurd (venue/decode/bounds.py)
        raise _Bad(BAD_AMOUNT)
    return value


class _Bad(Exception):
    def __init__(self, reason: int):
        self.reason = reason


class _Skip(_Bad):
    """A well-formed update that is not ours to book: skipped, the frame goes on."""


def _parse_order(o: dict, instrument_ids: dict[str, int]) -> tuple:
    """Every field of one OrderStatus that an event needs, validated; raises on bad data."""
    if "instrument_name" not in o and "legs" in o:
        raise _Skip(COMBINATION_ORDER)
    name = o["instrument_name"]
    if type(name) is not str:
        raise TypeError("instrument_name")
    iid = instrument_ids.get(name, -1)
    if iid < 0:
        raise _Skip(UNKNOWN_INSTRUMENT)
    side = SIDES.get(o["direction"])
    if side is None:
        raise _Bad(BAD_VALUE)
    order_id = ids.order_id(o["order_id"])
    cid = o.get("client_order_id")
    cid = 0 if cid is None else ids.client_order_id(cid)
    price = o.get("price")
    if price is None:
        price = NAN  # market orders carry no price
    elif type(price) not in NUMBER_TYPES:
        raise TypeError("price")
    elif not price_ok(price):
        raise _Bad(BAD_PRICE)
    amount = _amount(o["amount"])
    remaining = _amount(o["remaining_amount"])
    if remaining > amount:   # more left than was ever ordered
        raise _Bad(BAD_AMOUNT)
    status, change = o["status"], o["change_reason"]
    if type(status) is not str or type(change) is not str:
        raise TypeError("status")
    created = o.get("create_time")
    created_ns = _ts_ns(created) if created is not None else 0
    closed = o.get("close_time")
    closed_ns = _ts_ns(closed) if closed is not None else created_ns
    fills = o.get("fills") or []
    if type(fills) is not list:
        raise TypeError("fills")
    parsed = []
    if change != "existing":
        for f in fills:
            f_price, f_amount = f["price"], _amount(f["amount"], allow_zero=False)
            if type(f_price) not in NUMBER_TYPES:
                raise TypeError("fill price")
            if not price_ok(f_price):
                raise _Bad(BAD_PRICE)
            if f_amount > amount:   # one fill larger than the whole order
                raise _Bad(BAD_AMOUNT)
            liq = LIQUIDITY.get(f["maker_taker"])
            if liq is None:
                raise _Bad(BAD_VALUE)
            f_time = f.get("time")
            parsed.append((ids.trade_id(f["trade_id"]), f_price, f_amount, liq,
                           _ts_ns(f_time) if f_time is not None else closed_ns))
    reason = DELETE_REASONS.get(o.get("delete_reason"), 0)
    return (iid, side, order_id, cid, price, amount, remaining, status, change, created_ns,
            closed_ns, parsed, reason)


def _write_order(fields: tuple, out: np.ndarray, n: int, receive_ts_ns: int, seq: int,
                 seen: SeenFills, counts: list[int]) -> int:
    """Write one parsed order's events from ``out[n]`` on; returns the new ``n``."""
    (iid, side, order_id, cid, price, amount, remaining, status, change, created_ns, closed_ns,
     fills, reason) = fields
    if change in ("insert", "existing", "amend"):
        kind = EXEC_AMEND if change == "amend" else EXEC_ACK
        _pack_exec(out, n * EXEC_SIZE, kind, side, 0, iid, seq + n, cid, order_id, 0, 0, created_ns,
                   receive_ts_ns, price, amount, remaining, NAN, 0.0, 0.0, 0)
        n += 1
    for trade_id, f_price, f_amount, liq, f_ns in fills:
        if not seen.add((trade_id, order_id)):
            counts[0] += 1
            continue
        _pack_exec(out, n * EXEC_SIZE, EXEC_FILL, side, liq, iid, seq + n, cid, order_id,
                   trade_id >> 64, trade_id & U64_MASK, f_ns, receive_ts_ns, f_price, f_amount, remaining, NAN, 0.0, 0.0, 0)
        n += 1
    if status in CLOSED_UNFILLED:
        _pack_exec(out, n * EXEC_SIZE, EXEC_CANCEL, side, 0, iid, seq + n, cid, order_id, 0, 0, closed_ns,
                   receive_ts_ns, price, amount, remaining, NAN, 0.0, 0.0, reason)
        n += 1
    return n


def orders_into(items, instrument_ids: dict[str, int], out: np.ndarray, receive_ts_ns: int,
                seq: int, seen: SeenFills, counts: list[int], skipped: list[int] | None = None) -> int:
    """Events of a list of OrderStatus into ``out``; number written, or -reason.

    ``out`` must hold ``events_needed(items)`` records (ValueError otherwise: a programming
    error, the frame decoder grows its buffer first). A malformed item rejects the whole frame:
    nothing from it is written or remembered. ``counts[0]`` grows by one per duplicate fill
    dropped. An item of another instrument or a combination is skipped; its reason is appended
    to ``skipped`` (when given).
    """
    if type(items) is not list:
        return -NOT_OBJECT
    if events_needed(items) > len(out):
        raise ValueError(f"exec buffer of {len(out)} records is too small: "
                         f"{events_needed(items)} needed")
    try:
        parsed = []
        for o in items:
            if type(o) is not dict:
                return -NOT_OBJECT
            try:
                parsed.append(_parse_order(o, instrument_ids))
            except _Skip as skip:
                if skipped is not None:
                    skipped.append(skip.reason)
    except _Bad as b:
        return -b.reason
    except ids.IdError:   # an id string not of the exchange's form (a non-string is BAD_TYPE)
        return -BAD_VALUE
    except KeyError:
        return -MISSING_FIELD
    except _ERRORS:
        return -BAD_TYPE
    n = 0  # nothing is written (and no fill remembered) unless every item parsed
    for fields in parsed:
        n = _write_order(fields, out, n, receive_ts_ns, seq, seen, counts)
    return n
