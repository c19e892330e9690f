"""The feed's per-frame fast path: raw websocket bytes -> one parse -> records in reused buffers.

``FrameDecoder.decode(frame, receive_ts_ns)`` parses the frame once with orjson, looks its
``channel_name`` up in a dict built when channels were added (channel -> kind, instrument id),
and packs the records into the buffers given at construction (``md_out`` one MD record,
``trades_out`` TRADE records, ``exec_out`` EXEC records, which grows if an order snapshot needs
more). It returns a reason code (0 = records written; then ``kind`` and ``count`` say which
buffer and how many) and never raises on bad input: every rejection is counted in
``counts[reason]`` and logged (throttled) with the channel and the reason's name.

Channels are added by name (``add("ticker.BTC-PERPETUAL.100ms", 7)``); the kind follows from
the prefix. Nothing is allocated per frame beyond orjson's objects and Python's numbers.

The first recent_trades notification after a subscribe (``"snapshot": true``) is history: the
last trades before we subscribed. It is not new flow and must not reach the estimators, so it
writes no records (``count`` 0) and ``history`` says how many rows it skipped; it is not an error.
"""
from __future__ import annotations

import logging

import numpy as np
import orjson

from venue.decode.market import (BookState, book_into, index_into, ticker_into, trades_into)
from venue.decode.orders import SeenFills, events_needed, orders_into
from venue.frame_log import RejectLog
from venue.layouts import writable_records
from venue.reasons import (BAD_JSON, DUPLICATE_FILL, N_REASONS, NOT_NOTIFICATION, NOT_OBJECT,
                                 REASON_NAMES, TRUNCATED, UNKNOWN_CHANNEL)
from shm.records import EXEC_DTYPE, MD_DTYPE, TRADE_DTYPE

log = logging.getLogger("venue.decode")

KIND_TICKER, KIND_BOOK, KIND_TRADES, KIND_INDEX, KIND_ORDERS = 1, 2, 3, 4, 5
#: channel_name prefix -> kind (THALEX_API.md section 4)
PREFIX_KINDS = {
    "ticker.": KIND_TICKER, "book.": KIND_BOOK, "recent_trades.": KIND_TRADES,
    "price_index.": KIND_INDEX, "session.orders": KIND_ORDERS, "account.orders": KIND_ORDERS,
}
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


class FrameDecoder:
    """See the module doc. ``instrument_ids`` maps instrument names to our ids (trades, orders)."""

    def __init__(self, md_out: np.ndarray, trades_out: np.ndarray | None = None,
                 exec_out: np.ndarray | None = None, instrument_ids: dict[str, int] | None = None):
        self.md_out = writable_records(md_out, MD_DTYPE, "md_out")
        self.trades_out = writable_records(trades_out if trades_out is not None else np.zeros(64, TRADE_DTYPE),
                                           TRADE_DTYPE, "trades_out")
        self.exec_out = writable_records(exec_out if exec_out is not None else np.zeros(64, EXEC_DTYPE),
                                         EXEC_DTYPE, "exec_out")
        self.instrument_ids = dict(instrument_ids or {})
        self._channels: dict[str, tuple[int, int]] = {}
        self._books: dict[str, BookState] = {}
        self._seen_fills = SeenFills()
        self._dup = [0]
        self.counts = [0] * N_REASONS
        self.kind = 0      # kind of the last frame written (KIND_*)
        self.count = 0     # records written by the last frame
        self.seq = 0       # records written so far; each record's seq field
        self.history = 0   # rows of the last trades frame skipped as a snapshot (history)
        self._log = RejectLog(log)

    # ---- channels -----------------------------------------------------------------------------
    def add(self, channel: str, instrument_id: int = 0) -> int:
        """Accept notifications of ``channel`` for ``instrument_id``; returns its kind."""
        for prefix, kind in PREFIX_KINDS.items():
            if channel.startswith(prefix):
                self._channels[channel] = (kind, instrument_id)
                if kind == KIND_BOOK:
                    self._books[channel] = BookState()
                return kind
        raise ValueError(f"channel {channel!r}: expected one starting with {', '.join(PREFIX_KINDS)}")

    def remove(self, channel: str) -> None:
        self._channels.pop(channel, None)
        self._books.pop(channel, None)

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    def reset_books(self) -> None:
        """Forget every book (after a reconnect: the next message of each is a snapshot)."""
        for book in self._books.values():
            book.reset()

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, frame, receive_ts_ns: int) -> int:
        """Decode one raw frame (bytes/str); 0 when records were written, else the reason."""
        try:
            msg = _loads(frame)
        except _JSONDecodeError:
            return self._reject(BAD_JSON, None)
        try:
            channel = msg["channel_name"]
            payload = msg["notification"]
            kind, iid = self._channels[channel]
        except KeyError:
            if "channel_name" in msg and "notification" in msg:
                return self._reject(UNKNOWN_CHANNEL, msg["channel_name"])
            return self._reject(NOT_NOTIFICATION, None)
        except TypeError:  # msg not a dict, or channel_name unhashable
            return self._reject(NOT_OBJECT if type(msg) is not dict else UNKNOWN_CHANNEL, None)
        seq = self.seq
        if kind == KIND_TICKER:
            n = ticker_into(payload, iid, self.md_out, receive_ts_ns, seq)
        elif kind == KIND_BOOK:
            n = self._book(channel, payload, iid, msg, receive_ts_ns, seq)
        elif kind == KIND_TRADES:
            n = self._trades(channel, payload, iid, msg, receive_ts_ns, seq)
        elif kind == KIND_INDEX:
            n = index_into(payload, iid, self.md_out, receive_ts_ns, seq)
        else:
            n = self._orders(payload, receive_ts_ns, seq)
        if n < 0:
            return self._reject(-n, channel)
        self.kind = kind
        self.count = n
        self.seq = seq + n + (kind == KIND_BOOK)  # a book frame also wrote its MD record
        return 0

    def _book(self, channel: str, payload, iid: int, msg: dict, receive_ts_ns: int, seq: int) -> int:
        n = book_into(payload, iid, self._books[channel], msg.get("snapshot") is True, self.md_out,
                      self.trades_out, receive_ts_ns, seq)
        if n >= 0 and type(payload.get("trades")) is list and len(payload["trades"]) > len(self.trades_out):
            self._reject(TRUNCATED, channel)
        return n

    def _trades(self, channel: str, payload, iid: int, msg: dict, receive_ts_ns: int, seq: int) -> int:
        if msg.get("snapshot") is True:
            if type(payload) is not list:
                return -NOT_OBJECT
            self.history = len(payload)
            return 0
        self.history = 0
        n = trades_into(payload, iid, self.trades_out, receive_ts_ns, seq, self.instrument_ids or None)
        if n >= 0 and len(payload) > len(self.trades_out):
            self._reject(TRUNCATED, channel)
        return n

    def _orders(self, payload, receive_ts_ns: int, seq: int) -> int:
        needed = events_needed(payload)
        if needed > len(self.exec_out):  # rare (a large snapshot): grow rather than lose events
            self.exec_out = np.zeros(max(needed, 2 * len(self.exec_out)), EXEC_DTYPE)
        before = self._dup[0]
        skipped: list[int] = []
        n = orders_into(payload, self.instrument_ids, self.exec_out, receive_ts_ns, seq,
                        self._seen_fills, self._dup, skipped)
        for _ in range(self._dup[0] - before):
            self._reject(DUPLICATE_FILL, "session.orders")
        for reason in skipped:      # another instrument, a combination: counted, frame goes on
            self._reject(reason, "session.orders")
        return n

    def _reject(self, reason: int, channel) -> int:
        self.counts[reason] += 1
        self._log.reject(REASON_NAMES[reason], channel if type(channel) is str else None)
        return reason

    def rejected(self) -> dict[str, int]:
        """Counts by reason name (only reasons seen)."""
        return {REASON_NAMES[r]: c for r, c in enumerate(self.counts) if c}
