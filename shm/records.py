"""Every record that crosses a ring, described once: this module is the only place to edit.

Each record is a fixed-size NumPy structured dtype whose size is a multiple of 64 bytes (one cache
line). The C side is generated from these dtypes at build time (``shm/generate_c.py``, run by
setup.py): the structs of ``shm/records.h``, their Cython declarations in ``shm/records.pxd`` and
the layout probe ``testkit/layout_probe.pyx``; ``tests/unit/shm/test_records.py`` checks itemsize
and every offset against the compiled structs. Byte 0 of every record is a little-endian ``type``
(uint16); type 0 means "empty slot".

Exchange identifiers are kept exactly: an order id (16 hex digits on Thalex) is its u64 value, a
trade id (32 hex digits) is the u128 split into ``trade_id_hi`` / ``trade_id_lo``; 0 means "none".

Units: prices in quote currency (USD), amounts in contracts, timestamps in nanoseconds
(``*_ts_ns``: exchange times are Unix epoch ns, local times are ``time.monotonic_ns()`` unless
the name says ``wall``), sides +1 buy / -1 sell.

MdRecord (128 B), broadcast on ring "md" by the feed::

    0       2       4               8                              16
    +-------+-------+---------------+------------------------------+
    | type  | flags | instrument_id | seq                          |
    +-------+-------+---------------+------------------------------+
 16 | exchange_ts_ns                | receive_ts_ns                |
 32 | best_bid_price                | best_bid_amount              |
 48 | best_ask_price                | best_ask_amount              |
 64 | mark_price                    | index_price                  |
 80 | last_price                    | last_amount                  |
 96 | funding_rate                  | publish_ts_ns                |
112 | (reserved, 16 B)                                             |
    +--------------------------------------------------------------+

TradeRecord (64 B), one public trade (Thalex's public feeds carry no trade id: 0 there)::

    0       2    3    4               8                             16
    | type  |side|pad | instrument_id | seq                         |
 16 | trade_id_hi                   | trade_id_lo                 |
 32 | exchange_ts_ns                | receive_ts_ns               |
 48 | price                         | amount                      |
 64 +-------------------------------------------------------------+

QuoteSet (448 B), the quoter's desired ladder (quotes ring) and risk's approved one (orders ring)::

    0       2      3      4             8                           16
    | type  |n_bids|n_asks|instrument_id| seq                       |
 16 | md_seq                        | md_exchange_ts_ns           |
 32 | created_ts_ns                 | mid                         |
 48 | reservation_price             | half_spread                 |
 64 | sigma                         | gamma                       |
 80 | intensity_a                   | intensity_k                 |
 96 | inventory                     | flags (u32) | reason (u32)  |
112 | md_receive_ts_ns              | md_publish_ts_ns            |
128 | bid_price[10]   (80 B)                                      |
208 | bid_amount[10]  (80 B)                                      |
288 | ask_price[10]   (80 B)                                      |
368 | ask_amount[10]  (80 B)                                      |
448 +-------------------------------------------------------------+

ExecEvent (128 B), broadcast on ring "exec" by the gateway (acks, rejects, fills, cancels,
positions)::

    0       2    3         4               8                        16
    | type  |side|liquidity| instrument_id | seq                    |
 16 | client_order_id               | order_id                   |
 32 | trade_id_hi                   | trade_id_lo                |
 48 | exchange_ts_ns                | receive_ts_ns              |
 64 | price                         | amount                     |
 80 | remaining                     | position                   |
 96 | fee                           | realised_pnl               |
112 | reason (i32) | (pad 4)        | (reserved, 8 B)            |
128 +------------------------------------------------------------+
"""
from __future__ import annotations

import numpy as np

CACHE_LINE = 64
MAX_LEVELS = 10  # price levels per side in a QuoteSet (Thalex mass_quote allows 10)
#: Constants generated into records.h (C) and records.pxd (Cython); an array field whose length
#: equals one of them is declared with its name.
C_CONSTANTS = {"MM_MAX_LEVELS": MAX_LEVELS}

# ---- type ids (byte 0 of every record; 0 = empty) -------------------------------------------
MD_TICKER, MD_BOOK, MD_TRADE, MD_INDEX = 1, 2, 3, 4
MD_FLAG_STALE = 1  # feed saw no data for longer than its staleness limit
MD_FLAG_NO_BID = 2  # the bid side is empty: best_bid_price is NaN, best_bid_amount 0
MD_FLAG_NO_ASK = 4  # the ask side is empty: best_ask_price is NaN, best_ask_amount 0
MD_FLAG_IMPLAUSIBLE = 8  # with STALE: data kept arriving but the feed refused it (clock, order, band)

TRADE_PUBLIC = 1

QUOTE_SET, QUOTE_PULL = 1, 2  # PULL: cancel every quote of the instrument
QUOTE_FLATTEN = 3  # risk -> gateway: close |position| reduce-only (side in flags, amount in *_amount[0])
QUOTE_TP = 4       # risk -> gateway: the resting reduce-only take-profit (one level; none = cancel it)
QUOTE_FLAG_REDUCE_ONLY = 1
QUOTE_FLAG_FAST_CANCEL = 2  # this set pulls a side because the market just jumped (kernels/guard.pyx)
# Why a QuoteSet is a PULL (its ``reason``): the quoter had nothing it could safely quote from.
QUOTE_REASON_NONE, QUOTE_REASON_STALE, QUOTE_REASON_NO_PRICE = 0, 1, 2
QUOTE_REASON_CROSSED_BOOK, QUOTE_REASON_BAD_INPUT, QUOTE_REASON_MODEL = 3, 4, 5
QUOTE_REASON_IMPLAUSIBLE = 6  # the feed refused every recent record (procs/md_checks.py)
# What the risk process changed in a QuoteSet before approving it (bits in ``reason``).
RISK_TRIM_POSITION, RISK_TRIM_NOTIONAL, RISK_TRIM_ORDER_SIZE = 1 << 8, 1 << 9, 1 << 10
RISK_PRICE_BAND, RISK_REDUCING, RISK_HALTED, RISK_PAUSED = 1 << 11, 1 << 12, 1 << 13, 1 << 14
RISK_NO_MARK = 1 << 15
RISK_RECONCILING = 1 << 16  # risk's book is not yet known to agree with the exchange's
RISK_TRIM_NET_DELTA, RISK_TRIM_GROSS = 1 << 17, 1 << 18   # portfolio limits (procs/risk/portfolio.py)
RISK_GATE_STALE = 1 << 19  # the gateway heard nothing from risk for gateway.risk_timeout_s (shm/gate.py)

EXEC_ACK, EXEC_REJECT, EXEC_FILL, EXEC_CANCEL, EXEC_POSITION, EXEC_AMEND = 1, 2, 3, 4, 5, 6
EXEC_TRADE = 7  # the trade history's report of a fill: the exchange's fee and position_after
# gateway -> risk: every trade and position of one reconciliation with the exchange is on the ring
# before this record; ``seq`` is the reconcile request sequence (shm/state.py) it answers.
EXEC_RECONCILED = 8
LIQ_MAKER, LIQ_TAKER = 1, 2


def describe(name: str, fields: list[tuple[str, str]], size: int) -> np.dtype:
    """Lay fields out in order at their natural alignment; gaps are reserved bytes.

    Fields named ``_pad...`` only advance the offset. Raises if the layout does not end inside
    ``size`` or ``size`` is not a multiple of a cache line.
    """
    if size % CACHE_LINE:
        raise ValueError(f"{name}: size {size} is not a multiple of {CACHE_LINE}")
    names, formats, offsets = [], [], []
    offset = 0
    for field, fmt in fields:
        dt = np.dtype(fmt)
        align = dt.base.alignment
        offset = (offset + align - 1) // align * align
        if not field.startswith("_pad"):
            names.append(field)
            formats.append(fmt)
            offsets.append(offset)
        offset += dt.itemsize
    if offset > size:
        raise ValueError(f"{name}: fields end at byte {offset}, past the record size {size}")
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size},
                    align=True)


MD_DTYPE = describe("MdRecord", [
    ("type", "<u2"), ("flags", "<u2"), ("instrument_id", "<u4"), ("seq", "<u8"),
    ("exchange_ts_ns", "<i8"), ("receive_ts_ns", "<i8"),
    ("best_bid_price", "<f8"), ("best_bid_amount", "<f8"),
    ("best_ask_price", "<f8"), ("best_ask_amount", "<f8"),
    ("mark_price", "<f8"), ("index_price", "<f8"),
    ("last_price", "<f8"), ("last_amount", "<f8"),
    ("funding_rate", "<f8"), ("publish_ts_ns", "<i8"),
], 128)

TRADE_DTYPE = describe("TradeRecord", [
    ("type", "<u2"), ("side", "i1"), ("_pad0", "u1"), ("instrument_id", "<u4"), ("seq", "<u8"),
    ("trade_id_hi", "<u8"), ("trade_id_lo", "<u8"), ("exchange_ts_ns", "<i8"), ("receive_ts_ns", "<i8"),
    ("price", "<f8"), ("amount", "<f8"),
], 64)

QUOTE_DTYPE = describe("QuoteSet", [
    ("type", "<u2"), ("n_bids", "u1"), ("n_asks", "u1"), ("instrument_id", "<u4"), ("seq", "<u8"),
    ("md_seq", "<u8"), ("md_exchange_ts_ns", "<i8"), ("created_ts_ns", "<i8"),
    ("mid", "<f8"), ("reservation_price", "<f8"), ("half_spread", "<f8"),
    ("sigma", "<f8"), ("gamma", "<f8"), ("intensity_a", "<f8"), ("intensity_k", "<f8"),
    ("inventory", "<f8"), ("flags", "<u4"), ("reason", "<u4"),
    ("md_receive_ts_ns", "<i8"), ("md_publish_ts_ns", "<i8"),
    ("bid_price", f"({MAX_LEVELS},)<f8"), ("bid_amount", f"({MAX_LEVELS},)<f8"),
    ("ask_price", f"({MAX_LEVELS},)<f8"), ("ask_amount", f"({MAX_LEVELS},)<f8"),
], 448)

EXEC_DTYPE = describe("ExecEvent", [
    ("type", "<u2"), ("side", "i1"), ("liquidity", "u1"), ("instrument_id", "<u4"), ("seq", "<u8"),
    ("client_order_id", "<u8"), ("order_id", "<u8"), ("trade_id_hi", "<u8"), ("trade_id_lo", "<u8"),
    ("exchange_ts_ns", "<i8"), ("receive_ts_ns", "<i8"),
    ("price", "<f8"), ("amount", "<f8"), ("remaining", "<f8"),
    ("position", "<f8"), ("fee", "<f8"), ("realised_pnl", "<f8"), ("reason", "<i4"),
], 128)

#: Every record kind by the C struct name that mirrors it.
RECORDS: dict[str, np.dtype] = {
    "MdRecord": MD_DTYPE,
    "TradeRecord": TRADE_DTYPE,
    "QuoteSet": QUOTE_DTYPE,
    "ExecEvent": EXEC_DTYPE,
}


U64_MASK = (1 << 64) - 1


def trade_id_of(record) -> int:
    """The exact 128-bit trade id of an ExecEvent or TradeRecord (0 = none), as one int."""
    return (int(record["trade_id_hi"]) << 64) | int(record["trade_id_lo"])


def split_trade_id(trade_id: int) -> tuple[int, int]:
    """``(trade_id_hi, trade_id_lo)`` of a 128-bit trade id; ValueError outside 0..2**128-1."""
    if not 0 <= trade_id >> 64 <= U64_MASK:
        raise ValueError(f"trade_id={trade_id}: expected 0..2**128-1")
    return trade_id >> 64, trade_id & U64_MASK


def copy_record(rec: np.ndarray) -> np.ndarray:
    """A writable copy of a structured record array, made from its bytes: NumPy copies a
    structured dtype field by field (~6 us for a QuoteSet on the VM), this in ~0.3 us."""
    return np.frombuffer(bytearray(rec.tobytes()), rec.dtype)


def empty(dtype: np.dtype, n: int = 1) -> np.ndarray:
    """A zeroed, C-contiguous array of ``n`` records: the reusable buffer the ring APIs fill."""
    return np.zeros(n, dtype=dtype)
