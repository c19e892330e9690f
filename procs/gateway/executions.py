"""What comes back from the exchange, for the gateway: executions onto the ``exec`` ring.

- session.orders: decoded straight into EXEC records (acks, amends, fills, cancels); the open
  orders (open_orders.py, the amounts risk counts) and, without mass quoting, the single-order
  ladders (ladder_orders.py) follow them.
- account.trade_history: the exchange's trade reports (fee, position after) as EXEC_TRADE; the
  same publisher replays the history on every reconnect (risk books each trade once).
- session.mm_protection: a tripped protection group is handed to the refill schedule
  (session.py, MmpRefills).
- refused orders and quotes (``reject``): an EXEC_REJECT record carrying the error code; a
  throttled answer (code 4) starts the rate limiter's cooldown.
- reconciliation (replay.py): ``publish_positions`` and ``publish_marker`` (EXEC_RECONCILED).
Every write rings the listeners' bells (the gateway passes risk's: the quoter reads fills on its next pass).

Executions are input, never trusted: a session.orders or trade-history frame the decoders refuse
(malformed, absurd, venue/decode/bounds.py), or one whose handling fails, is counted in
``invalid``, logged once per reason, never published, and ``on_invalid()`` is called: the
session reconciles with the exchange (an execution may have been lost with it). Frames of
channels we do not handle are counted by the decoder and ignored.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import orjson

from venue.decode.account import trade_report_into
from venue.decode.frame import KIND_ORDERS
from venue.decode.market import NUMBER_TYPES
from venue.ratelimit import THROTTLED
from venue.reasons import NOT_NOTIFICATION, OTHER_TRADE_TYPE, REASON_NAMES, UNKNOWN_CHANNEL, UNKNOWN_INSTRUMENT
from shm import records as R

log = logging.getLogger("gateway")


class Executions:
    def __init__(self, instruments, exec_ring, listeners, decoder, open_orders, ladders, limits, mmp):
        """
        instruments  our Instrument list (id = index)
        exec_ring    the ``exec`` broadcast writer
        listeners    callables ringing the consumers' doorbells after each write
        decoder      a FrameDecoder with ``session.orders`` added (it owns the EXEC buffer)
        open_orders  OpenOrders: what of ours rests or is in flight
        ladders      instrument id -> LadderOrders without mass quoting, else None
        limits       ThalexLimits (a throttled answer starts its cooldown)
        mmp          MmpRefills: protection groups waiting for their refill
        """
        self.instruments, self.exec_ring, self.listeners = instruments, exec_ring, listeners
        self.decoder, self.open_orders, self.ladders = decoder, open_orders, ladders
        self.limits, self.mmp = limits, mmp
        self.by_name = {i.name: i for i in instruments}
        self.rejects = self.throttled = 0
        self.invalid = 0                      # executions refused (frames or trade reports)
        self.invalid_by_reason: dict[str, int] = {}
        self.on_invalid = None                # on_invalid(): set by the session (reconcile)

    def on_frame(self, frame: bytes) -> bool:
        """The client's frame hook: True when the frame was ours (a notification)."""
        if b'"channel_name"' not in frame:
            return False
        try:
            if b'"session.mm_protection"' in frame:
                return self._on_mm_protection(frame)
            if b'"account.trade_history"' in frame:
                return self._on_trades(frame)
            return self._on_orders(frame)
        except Exception as exc:   # a frame that breaks its handler may have held an execution
            self.invalid_execution("handler_error", f"{type(exc).__name__}: {exc}", frame)
            return True

    def invalid_execution(self, reason: str, what: str, frame=b"") -> None:
        """Count and log (once per reason) an execution we refused, and ask for reconciliation."""
        self.invalid += 1
        count = self.invalid_by_reason[reason] = self.invalid_by_reason.get(reason, 0) + 1
        if count == 1 or count % 1000 == 0:
            log.error("execution refused (%s: %s; %d so far for %s): not published, reconciling with "
                      "the exchange; frame starts %.200r", reason, what, count, reason, bytes(frame[:200]))
        if self.on_invalid is not None:
            self.on_invalid()

    def _on_orders(self, frame: bytes) -> bool:
        d = self.decoder
        reason = d.decode(frame, time.monotonic_ns())
        if reason == NOT_NOTIFICATION:
            return False                      # no notification after all: the client's to answer
        if reason == UNKNOWN_CHANNEL:
            return True                       # not an execution channel: counted by the decoder
        if reason:
            self.invalid_execution(REASON_NAMES[reason], "session.orders frame refused", frame)
            return True
        if d.kind != KIND_ORDERS:
            return True
        # The decoder's buffer, not one kept here: it grows it for a large snapshot.
        events = d.exec_out[:d.count]
        for e in events:
            self.open_orders.on_exec(e)
            if self.ladders is not None and e["client_order_id"]:
                ladder = self.ladders.get(int(e["instrument_id"]))
                if ladder is not None:
                    kind = int(e["type"])
                    ladder.on_order(int(e["client_order_id"]), float(e["remaining"]),
                                    kind == R.EXEC_CANCEL or (kind == R.EXEC_FILL and e["remaining"] <= 0),
                                    float(e["amount"]) if kind == R.EXEC_FILL else 0.0)
        self.exec_ring.write_batch(events)
        for ring in self.listeners:
            ring()
        self.open_orders.publish()
        return True

    def _on_trades(self, frame: bytes) -> bool:
        """The trade history's reports (exchange fee, position after) as EXEC_TRADE records."""
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            self.invalid_execution("bad_json", "account.trade_history frame is not JSON", frame)
            return True
        trades = msg.get("notification") if type(msg) is dict else None
        if type(trades) is not list:
            self.invalid_execution("not_object", "account.trade_history notification is not a list", frame)
            return True
        if self.publish_trades(trades):
            self.invalid_execution("bad_trade_report", "account.trade_history report refused", frame)
        return True

    def publish_trades(self, trades: list) -> int:
        """Each readable trade report as an EXEC_TRADE record (venue/decode/account.py); returns
        how many were unreadable (logged; another instrument or trade type is not). A report
        without a fee carries NaN, "fee unknown", and risk keeps the fee it booked; one without
        maker_taker has liquidity 0 (unknown)."""
        rec = np.zeros(1, R.EXEC_DTYPE)
        now = time.monotonic_ns()
        bad = 0
        for t in trades:
            n = trade_report_into(t, self.decoder.instrument_ids, rec, now)
            if n > 0:
                self.write(rec)
            elif -n in (UNKNOWN_INSTRUMENT, OTHER_TRADE_TYPE):
                log.debug("trade report skipped (%s): %.200r", REASON_NAMES[-n], t)
            else:
                bad += 1
                log.warning("trade report unreadable (%s): %.200r", REASON_NAMES[-n], t)
        return bad

    def publish_positions(self, held: dict) -> None:
        """The exchange's position of every instrument (name -> contracts) as EXEC_POSITION."""
        rec = np.zeros(1, R.EXEC_DTYPE)
        for inst in self.instruments:
            rec[0] = 0
            rec["type"], rec["instrument_id"] = R.EXEC_POSITION, inst.id
            rec["position"], rec["receive_ts_ns"] = float(held.get(inst.name) or 0.0), time.monotonic_ns()
            self.write(rec)

    def publish_marker(self, request_seq: int) -> None:
        """EXEC_RECONCILED: this reconciliation's trades and positions are all on the ring before it;
        ``seq`` is the reconcile request sequence it answers (procs/gateway/replay.py)."""
        rec = np.zeros(1, R.EXEC_DTYPE)
        rec["type"], rec["seq"], rec["receive_ts_ns"] = R.EXEC_RECONCILED, request_seq, time.monotonic_ns()
        self.write(rec)

    def _on_mm_protection(self, frame: bytes) -> bool:
        """A protection group ran out: its quotes are gone; it is refilled after a pause."""
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            msg = None
        groups = msg.get("notification") if type(msg) is dict else None
        if type(groups) is not list:
            self._odd_protection(frame)
            return True
        for g in groups:
            product, left = (g.get("product"), g.get("remaining_amount")) if type(g) is dict else (None, None)
            if type(product) is not str or type(left) not in NUMBER_TYPES:
                self._odd_protection(frame)
                continue
            if left <= 0 and g.get("reason") == "executions":
                self.mmp.trip(product)
        return True

    def _odd_protection(self, frame: bytes) -> None:
        """A session.mm_protection frame we cannot read: counted and logged, nothing tripped."""
        count = self.invalid_by_reason["mm_protection"] = self.invalid_by_reason.get("mm_protection", 0) + 1
        if count == 1 or count % 1000 == 0:
            log.error("session.mm_protection frame unreadable (%d so far): ignored; frame starts %.200r",
                      count, bytes(frame[:200]))

    def reject(self, iid: int, code: int, text: str) -> None:
        """The exchange refused an order or a quote side: count it, tell risk and the quoter."""
        self.rejects += 1
        if code == THROTTLED:
            self.throttled += 1
            wait_ns = self.limits.on_throttled(time.monotonic_ns())
            log.warning("throttled by the exchange: cooling down %.2fs", wait_ns / 1e9)
        else:
            log.warning("%s rejected (code %d): %s", self.instruments[iid].name, code, text)
        rec = np.zeros(1, R.EXEC_DTYPE)
        rec["type"], rec["instrument_id"], rec["reason"] = R.EXEC_REJECT, iid, code
        rec["receive_ts_ns"] = time.monotonic_ns()
        self.write(rec)

    def write(self, rec: np.ndarray) -> None:
        self.exec_ring.write(rec)
        for ring in self.listeners:
            ring()
