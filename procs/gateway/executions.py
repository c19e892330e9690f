"""What comes back from the exchange, for the gateway: executions onto the ``exec`` ring.

- session.orders: decoded straight into EXEC records (acks, amends, fills, cancels); the gateway's
  picture of its live orders (and the open amounts risk counts) follows them.
- account.trade_history: the exchange's trade reports (fee, position after) as EXEC_TRADE; the
  same publisher replays the history on every reconnect (risk books each trade once).
- session.mm_protection: a tripped protection group is refilled after MMP_REFILL_S.
Every write rings the bells of risk and the quoter.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import orjson

from venue import ids
from venue.decode.frame import KIND_ORDERS
from shm import records as R

log = logging.getLogger("gateway")
MMP_REFILL_S = 1.0


class ExecutionsMixin:
    """Mixed into procs.gateway.Gateway (it owns the rings, the client and the decoder)."""

    def _on_frame(self, frame: bytes) -> bool:
        if b'"channel_name"' not in frame:
            return False
        if b'"session.mm_protection"' in frame:
            return self._on_mm_protection(frame)
        if b'"account.trade_history"' in frame:
            return self._on_trades(frame)
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()) or d.kind != KIND_ORDERS:
            return True
        for k in range(d.count):
            e = self.ex[k]
            oid, kind = int(e["order_id"]), int(e["type"])
            if kind in (R.EXEC_ACK, R.EXEC_AMEND):
                if e["remaining"] > 0:
                    self.live[oid] = (int(e["instrument_id"]), int(e["side"]), float(e["remaining"]))
            elif kind == R.EXEC_FILL:
                if e["remaining"] > 0 and oid in self.live:
                    self.live[oid] = (*self.live[oid][:2], float(e["remaining"]))
                else:
                    self.live.pop(oid, None)
            elif kind == R.EXEC_CANCEL:
                self.live.pop(oid, None)
            if not self.conf.mass_quote and e["client_order_id"]:
                ladder = self.ladders.get(int(e["instrument_id"]))
                if ladder is not None:
                    ladder.on_order(int(e["client_order_id"]), float(e["remaining"]),
                                    kind == R.EXEC_CANCEL or (kind == R.EXEC_FILL and e["remaining"] <= 0))
        self.exec_ring.write_batch(self.ex[:d.count])
        for ring in self.listeners:
            ring()
        self._publish_open()
        return True

    def _on_trades(self, frame: bytes) -> bool:
        """The trade history's reports (exchange fee, position after) as EXEC_TRADE records."""
        try:
            trades = orjson.loads(frame).get("notification") or []
        except orjson.JSONDecodeError:
            log.warning("account.trade_history frame is not JSON: skipped")
            return True
        self._publish_trades(trades if isinstance(trades, list) else [])
        return True

    def _publish_trades(self, trades: list) -> None:
        rec = np.zeros(1, R.EXEC_DTYPE)
        now = time.monotonic_ns()
        for t in trades:
            inst = self.by_name.get(t.get("instrument_name")) if isinstance(t, dict) else None
            if inst is None or t.get("trade_type", "normal") != "normal":
                continue
            try:
                rec[0] = 0
                rec["type"], rec["instrument_id"] = R.EXEC_TRADE, inst.id
                rec["side"] = 1 if t["direction"] == "buy" else -1
                rec["trade_id_hi"], rec["trade_id_lo"] = R.split_trade_id(ids.trade_id(t["trade_id"]))
                rec["order_id"] = ids.order_id(t["order_id"]) if t.get("order_id") else 0
                rec["price"], rec["amount"], rec["fee"] = float(t["price"]), float(t["amount"]), float(t.get("fee", 0.0))
                rec["position"] = float(t.get("position_after", np.nan))
                rec["exchange_ts_ns"], rec["receive_ts_ns"] = int(float(t.get("time", 0)) * 1e9), now
                rec["liquidity"] = R.LIQ_MAKER if t.get("maker_taker") == "maker" else R.LIQ_TAKER
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("trade history item unreadable (%s): %r", exc, t)
                continue
            self._write_exec(rec)

    def _on_mm_protection(self, frame: bytes) -> bool:
        """A protection group ran out: its quotes are gone; refill it after a pause (a burst of
        fills is exactly when quoting again at once is least wise)."""
        try:
            groups = orjson.loads(frame).get("notification") or []
        except orjson.JSONDecodeError:
            return True
        for g in groups if isinstance(groups, list) else []:
            if isinstance(g, dict) and (g.get("remaining_amount") or 0) <= 0 and g.get("reason") == "executions":
                log.warning("market-maker protection tripped on %s: refilling in %.1fs",
                            g.get("product"), MMP_REFILL_S)
                self.mmp_refill[g.get("product")] = time.monotonic() + MMP_REFILL_S
        return True

    def _refill_mmp(self) -> None:
        now = time.monotonic()
        for product, due in list(self.mmp_refill.items()):
            if now >= due:
                del self.mmp_refill[product]
                self.client.set_mm_protection(product, self.conf.mmp_trade_amount,
                                              self.conf.mmp_quote_amount, wait=False)
                for inst in self.instruments:   # resend the newest ladder of the group
                    if inst.product == product and inst.id in self.last_sent:
                        self.desired.setdefault(inst.id, self.last_sent[inst.id])

    def _write_exec(self, rec: np.ndarray) -> None:
        self.exec_ring.write(rec)
        for ring in self.listeners:
            ring()

    def _publish_open(self) -> None:
        bid = [0.0] * len(self.instruments)
        ask = [0.0] * len(self.instruments)
        for iid, side, remaining in self.live.values():
            (bid if side > 0 else ask)[iid] += remaining
        for iid, (b, a) in self.inflight.items():
            bid[iid] += b
            ask[iid] += a
        s = self.state.table
        s["open_bid"][0][:len(bid)] = bid
        s["open_ask"][0][:len(ask)] = ask
        self.state.set("quoting", int(bool(self.live)))

