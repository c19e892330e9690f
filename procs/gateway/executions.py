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
Every write rings the listeners' bells (the gateway passes risk's: the quoter reads fills on its next pass).
"""
from __future__ import annotations

import logging
import time

import numpy as np
import orjson

from venue.decode.account import trade_report_into
from venue.decode.frame import KIND_ORDERS
from venue.ratelimit import THROTTLED
from venue.reasons import OTHER_TRADE_TYPE, REASON_NAMES, UNKNOWN_INSTRUMENT
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

    def on_frame(self, frame: bytes) -> bool:
        """The client's frame hook: True when the frame was ours (a notification)."""
        if b'"channel_name"' not in frame:
            return False
        if b'"session.mm_protection"' in frame:
            return self._on_mm_protection(frame)
        if b'"account.trade_history"' in frame:
            return self._on_trades(frame)
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()) or d.kind != KIND_ORDERS:
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
            trades = orjson.loads(frame).get("notification") or []
        except orjson.JSONDecodeError:
            log.warning("account.trade_history frame is not JSON: skipped")
            return True
        self.publish_trades(trades if isinstance(trades, list) else [])
        return True

    def publish_trades(self, trades: list) -> None:
        """Each readable trade report as an EXEC_TRADE record (venue/decode/account.py). A report
        without a fee carries NaN, "fee unknown", and risk keeps the fee it booked; one without
        maker_taker has liquidity 0 (unknown)."""
        rec = np.zeros(1, R.EXEC_DTYPE)
        now = time.monotonic_ns()
        for t in trades:
            n = trade_report_into(t, self.decoder.instrument_ids, rec, now)
            if n > 0:
                self.write(rec)
            elif -n in (UNKNOWN_INSTRUMENT, OTHER_TRADE_TYPE):
                log.debug("trade report skipped (%s): %.200r", REASON_NAMES[-n], t)
            else:
                log.warning("trade report unreadable (%s): %.200r", REASON_NAMES[-n], t)

    def publish_positions(self, held: dict) -> None:
        """The exchange's position of every instrument (name -> contracts) as EXEC_POSITION."""
        rec = np.zeros(1, R.EXEC_DTYPE)
        for inst in self.instruments:
            rec[0] = 0
            rec["type"], rec["instrument_id"] = R.EXEC_POSITION, inst.id
            rec["position"], rec["receive_ts_ns"] = float(held.get(inst.name) or 0.0), time.monotonic_ns()
            self.write(rec)

    def _on_mm_protection(self, frame: bytes) -> bool:
        """A protection group ran out: its quotes are gone; it is refilled after a pause."""
        try:
            groups = orjson.loads(frame).get("notification") or []
        except orjson.JSONDecodeError:
            return True
        for g in groups if isinstance(groups, list) else []:
            if isinstance(g, dict) and (g.get("remaining_amount") or 0) <= 0 and g.get("reason") == "executions":
                self.mmp.trip(g.get("product"))
        return True

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
