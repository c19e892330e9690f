"""Hot Thalex notifications decoded straight into shm records (shm/records.py).

Each ``*_into`` function validates a parsed payload and packs one or more records into a
caller-provided, reused NumPy array with one ``struct.pack_into`` per record (layouts.py); it
returns the number of records written, or ``-reason`` (reasons.py) and writes nothing. They never
raise on bad input. ``decode_ticker`` and friends are the friendly wrappers; ``FrameDecoder``
(frame_decoder.py) is the per-frame fast path from raw bytes.

Conventions: prices USD, amounts contracts, times ns (Thalex sends float Unix seconds). A value
the payload does not carry is NaN (an empty book side: price NaN, amount 0 and a NO_BID/NO_ASK
flag). Rejected: NaN/infinite/zero/negative prices, negative amounts, a crossed book (bid >= ask),
missing required fields, wrong JSON types.
"""
from __future__ import annotations

import struct

import numpy as np
import orjson

from venue.layouts import MD_STRUCT, TRADE_STRUCT, writable_records
from venue.reasons import (BAD_AMOUNT, BAD_JSON, BAD_PRICE, BAD_TYPE, BAD_VALUE, CROSSED_BOOK,
                                 MISSING_FIELD, NO_SNAPSHOT, NOT_OBJECT)
from shm.records import (MD_BOOK, MD_DTYPE, MD_FLAG_NO_ASK, MD_FLAG_NO_BID, MD_INDEX, MD_TICKER,
                         TRADE_DTYPE, TRADE_PUBLIC)

INF = float("inf")
NAN = float("nan")
NS_PER_S = 1e9
MAX_TS_S = 4.0e9  # 2096: any later "Unix seconds" value is garbage (and would overflow ns in int64)
NUMBER_TYPES = frozenset((float, int))  # not bool: True is no price
SIDES = {"buy": 1, "sell": -1}

_pack_md = MD_STRUCT.pack_into
_pack_trade = TRADE_STRUCT.pack_into
TRADE_SIZE = TRADE_DTYPE.itemsize
_ERRORS = (TypeError, AttributeError, IndexError, ValueError, OverflowError, struct.error)


def _ts_ns(ts) -> int:
    """Unix seconds (float) -> int ns; raises ValueError when not a plausible time."""
    if type(ts) not in NUMBER_TYPES or not 0.0 < ts < MAX_TS_S:
        raise ValueError(ts)
    return int(ts * NS_PER_S)


# ---- ticker.<instrument>.<delay> -------------------------------------------------------------
def ticker_into(p: dict, instrument_id: int, out: np.ndarray, receive_ts_ns: int, seq: int = 0) -> int:
    """One MD_TICKER record from a Ticker payload; 1, or -reason."""
    try:
        mark = p["mark_price"]
        index = p["index"]
        ts = p["mark_timestamp"]
        if type(mark) not in NUMBER_TYPES or type(index) not in NUMBER_TYPES or type(ts) not in NUMBER_TYPES:
            return -MISSING_FIELD if mark is None or index is None or ts is None else -BAD_TYPE
        if not (0.0 < mark < INF and 0.0 < index < INF):
            return -BAD_PRICE
        if not 0.0 < ts < MAX_TS_S:
            return -BAD_VALUE
        flags = 0
        bid = p.get("best_bid_price")
        if bid is None:
            flags = MD_FLAG_NO_BID
            bid, bid_amount = NAN, 0.0
        else:
            bid_amount = p["best_bid_amount"]
            if type(bid) not in NUMBER_TYPES or type(bid_amount) not in NUMBER_TYPES:
                return -BAD_TYPE
            if not 0.0 < bid < INF:
                return -BAD_PRICE
            if not 0.0 < bid_amount < INF:
                return -BAD_AMOUNT
        ask = p.get("best_ask_price")
        if ask is None:
            flags |= MD_FLAG_NO_ASK
            ask, ask_amount = NAN, 0.0
        else:
            ask_amount = p["best_ask_amount"]
            if type(ask) not in NUMBER_TYPES or type(ask_amount) not in NUMBER_TYPES:
                return -BAD_TYPE
            if not 0.0 < ask < INF:
                return -BAD_PRICE
            if not 0.0 < ask_amount < INF:
                return -BAD_AMOUNT
            if bid >= ask:  # False when the bid is NaN (empty side)
                return -CROSSED_BOOK
        last = p.get("last_price")
        if last is None:
            last = NAN
        elif type(last) not in NUMBER_TYPES:
            return -BAD_TYPE
        elif not 0.0 < last < INF:
            return -BAD_PRICE
        funding = p.get("funding_rate")
        if funding is None:
            funding = NAN
        elif type(funding) not in NUMBER_TYPES:
            return -BAD_TYPE
        elif not -INF < funding < INF:
            return -BAD_VALUE
        _pack_md(out, 0, MD_TICKER, flags, instrument_id, seq, int(ts * NS_PER_S), receive_ts_ns,
                 bid, bid_amount, ask, ask_amount, mark, index, last, NAN, funding, 0)
        return 1
    except KeyError:
        return -MISSING_FIELD
    except _ERRORS:
        return -BAD_TYPE


# ---- price_index.<underlying> ----------------------------------------------------------------
def index_into(p: dict, instrument_id: int, out: np.ndarray, receive_ts_ns: int, seq: int = 0) -> int:
    """One MD_INDEX record (index_price, exchange time) from an Index payload; 1, or -reason."""
    try:
        price = p["price"]
        if type(price) not in NUMBER_TYPES:
            return -MISSING_FIELD if price is None else -BAD_TYPE
        if not 0.0 < price < INF:
            return -BAD_PRICE
        ts_ns = _ts_ns(p["timestamp"])
        _pack_md(out, 0, MD_INDEX, MD_FLAG_NO_BID | MD_FLAG_NO_ASK, instrument_id, seq, ts_ns,
                 receive_ts_ns, NAN, 0.0, NAN, 0.0, NAN, price, NAN, NAN, NAN, 0)
        return 1
    except KeyError:
        return -MISSING_FIELD
    except _ERRORS:
        return -BAD_TYPE


# ---- public trades: recent_trades.* items and book.* "trades" --------------------------------
def _trade_fields(item, name_index: int):
    """(price, amount, side, time_ns, name or None) of one trade row; raises on bad data."""
    price, amount, direction, ts = item[0], item[1], item[2], item[3]
    if type(price) not in NUMBER_TYPES or type(amount) not in NUMBER_TYPES:
        raise TypeError("trade price/amount")
    if not 0.0 < price < INF:
        raise _Reject(BAD_PRICE)
    if not 0.0 < amount < INF:
        raise _Reject(BAD_AMOUNT)
    side = SIDES.get(direction)
    if side is None:
        raise _Reject(BAD_VALUE)
    name = item[name_index] if name_index >= 0 and len(item) > name_index else None
    return price, amount, side, _ts_ns(ts), name


class _Reject(Exception):
    """Internal: carries a reason out of a nested loop (never leaves this package)."""

    def __init__(self, reason: int):
        self.reason = reason


def trades_into(items, instrument_id: int, out: np.ndarray, receive_ts_ns: int, seq: int = 0,
                instrument_ids: dict[str, int] | None = None, name_index: int = 4) -> int:
    """TRADE_PUBLIC records from trade rows ``[price, amount, "buy"|"sell", time, name, ...]``.

    Rows naming an instrument absent from ``instrument_ids`` (when given) are skipped; rows past
    ``len(out)`` are dropped (the caller counts TRUNCATED). The whole list is validated before
    anything is written. Returns records written, or -reason.
    """
    try:
        if type(items) is not list:
            return -NOT_OBJECT
        rows = [_trade_fields(item, name_index) for item in items[:len(out)]]
        n = 0
        for price, amount, side, ts_ns, name in rows:
            iid = instrument_id
            if instrument_ids is not None and name is not None:
                iid = instrument_ids.get(name, -1)
                if iid < 0:
                    continue
            _pack_trade(out, n * TRADE_SIZE, TRADE_PUBLIC, side, iid, seq + n, 0, 0, ts_ns, receive_ts_ns,
                        price, amount)   # public trades carry no trade id: 0 (none)
            n += 1
        return n
    except _Reject as r:
        return -r.reason
    except KeyError:
        return -MISSING_FIELD
    except _ERRORS:
        return -BAD_TYPE


# ---- book.<instrument>.<grouping>.<nlevels>.<delay> ------------------------------------------
class BookState:
    """The levels of one subscribed book (price -> amount per side), kept to derive the top."""

    __slots__ = ("bids", "asks", "synced")

    def __init__(self):
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.synced = False

    def reset(self) -> None:
        self.bids.clear(), self.asks.clear()
        self.synced = False


def _check_levels(changes) -> None:
    if type(changes) is not list:
        raise TypeError("changes")
    for level in changes:
        price, amount = level[0], level[1]
        if type(price) not in NUMBER_TYPES or type(amount) not in NUMBER_TYPES:
            raise TypeError("level")
        if not 0.0 < price < INF:
            raise _Reject(BAD_PRICE)
        if not 0.0 <= amount < INF:
            raise _Reject(BAD_AMOUNT)


def _apply(side: dict, changes) -> None:
    for level in changes:
        if level[1] == 0:
            side.pop(level[0], None)
        else:
            side[level[0]] = level[1]


def book_into(p: dict, instrument_id: int, book: BookState, snapshot: bool, md_out: np.ndarray,
              trades_out: np.ndarray | None, receive_ts_ns: int, seq: int = 0) -> int:
    """Apply a book update, write an MD_BOOK top-of-book record and the update's trades.

    Returns the number of trade records written (>= 0; the MD record is always written on
    success) or -reason. Every level is validated before any is applied, so a malformed update
    leaves the book as it was; a crossed result is applied (it is the exchange's state) but no
    record is written.
    """
    try:
        bid_changes = p.get("bid_changes", [])
        ask_changes = p.get("ask_changes", [])
        ts_ns = _ts_ns(p["time"])
        _check_levels(bid_changes)
        _check_levels(ask_changes)
        trades = p.get("trades") or []
        rows = [_trade_fields(t, -1) for t in trades] if trades_out is not None else ()
        if not snapshot and not book.synced:
            return -NO_SNAPSHOT
        bids, asks = book.bids, book.asks
        if snapshot:
            bids.clear(), asks.clear()
        _apply(bids, bid_changes)
        _apply(asks, ask_changes)
        book.synced = True
        bid = max(bids) if bids else NAN
        ask = min(asks) if asks else NAN
        if bid >= ask:  # the exchange's own (crossed) state is kept: the next update may uncross it
            return -CROSSED_BOOK
        flags = (MD_FLAG_NO_BID if not bids else 0) | (MD_FLAG_NO_ASK if not asks else 0)
        last, last_amount = (rows[-1][0], rows[-1][1]) if rows else (NAN, NAN)
        _pack_md(md_out, 0, MD_BOOK, flags, instrument_id, seq, ts_ns, receive_ts_ns,
                 bid, bids.get(bid, 0.0), ask, asks.get(ask, 0.0), NAN, NAN, last, last_amount, NAN, 0)
        n = 0
        for price, amount, side, t_ns, _ in rows[:len(trades_out) if trades_out is not None else 0]:
            _pack_trade(trades_out, n * TRADE_SIZE, TRADE_PUBLIC, side, instrument_id, seq + n, 0, 0, t_ns,
                        receive_ts_ns, price, amount)
            n += 1
        return n
    except _Reject as r:
        return -r.reason
    except KeyError:
        return -MISSING_FIELD
    except _ERRORS:
        return -BAD_TYPE


# ---- friendly wrappers -----------------------------------------------------------------------
def _payload(payload_dict_or_bytes):
    """A notification payload from a dict or the raw bytes of a payload / a whole frame."""
    if isinstance(payload_dict_or_bytes, (bytes, bytearray, memoryview, str)):
        obj = orjson.loads(payload_dict_or_bytes)
        if type(obj) is dict and "notification" in obj and "channel_name" in obj:
            return obj["notification"]
        return obj
    return payload_dict_or_bytes


def decode_ticker(payload_dict_or_bytes, instrument_id: int, out_record: np.ndarray,
                  receive_ts_ns: int) -> bool:
    """Fill ``out_record[0]`` (MD_DTYPE) from a ticker payload; False (nothing written) if bad."""
    return decode_ticker_reason(payload_dict_or_bytes, instrument_id, out_record, receive_ts_ns) == 0


def decode_ticker_reason(payload_dict_or_bytes, instrument_id: int, out_record: np.ndarray,
                         receive_ts_ns: int) -> int:
    """Like ``decode_ticker`` but returns the reason code (0 = written)."""
    writable_records(out_record, MD_DTYPE, "out_record")
    try:
        payload = _payload(payload_dict_or_bytes)
    except orjson.JSONDecodeError:
        return BAD_JSON
    n = ticker_into(payload, instrument_id, out_record, receive_ts_ns)
    return 0 if n > 0 else -n


def decode_trades(items, instrument_id: int, out: np.ndarray, receive_ts_ns: int,
                  instrument_ids: dict[str, int] | None = None) -> int:
    """recent_trades rows into TRADE_DTYPE records; records written, or -reason."""
    writable_records(out, TRADE_DTYPE, "out")
    return trades_into(items, instrument_id, out, receive_ts_ns, 0, instrument_ids)


def decode_book(payload: dict, instrument_id: int, book: BookState, md_out: np.ndarray,
                receive_ts_ns: int, snapshot: bool = False, trades_out: np.ndarray | None = None) -> int:
    """A book notification into ``md_out[0]`` and ``trades_out``; trades written, or -reason."""
    writable_records(md_out, MD_DTYPE, "md_out")
    if trades_out is not None:
        writable_records(trades_out, TRADE_DTYPE, "trades_out")
    return book_into(payload, instrument_id, book, snapshot, md_out, trades_out, receive_ts_ns)


__all__ = ["BookState", "decode_ticker", "decode_ticker_reason", "decode_trades",
           "decode_book", "ticker_into", "index_into", "trades_into", "book_into"]
