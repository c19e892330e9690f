"""The risk process: every ladder passes here on its way to the gateway.

Reads ``quotes`` (one-to-one from the quoter), ``exec`` (fills, the trade history's fee reports
and reconciled positions, with a strict reader: a missed execution would corrupt the position, so
a lap halts quoting until the gateway reconciles) and ``md`` (marks, funding). Keeps FIFO
positions and P&L (position.py, persisted by journal.py), the trading state with its reason, and
acts on the operator's commands posted in the shared state (halt, resume, flatten, kill).

Trading states: P&L limits (stop-loss on equity, take-profit, drawdown from the high-water mark,
daily loss since 00:00 UTC) move ACTIVE -> REDUCING at ``reduce_at_fraction`` of the limit (only
orders that shrink the position) and -> HALTED at the limit (everything pulled; only a flatten).
A position near max_position is REDUCING too. Leaving HALTED takes an explicit resume; REDUCING
clears by itself when its cause does. Each ladder is checked by limits.approve and forwarded on
``orders``; entering HALTED pulls every instrument.
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from runtime import segments
from runtime.agent import Agent
from procs.risk.journal import Journal
from procs.risk.limits import Limits, approve
from procs.risk.position import PositionBook
from runtime.settings import config_of, instruments_of
from shm import records as R
from shm.doorbell import Doorbells
from shm.errors import RingLappedError
from shm.one_to_one import FULL
from shm.state import ACTIVE, HALTED, REDUCING, TRADING_STATE_NAMES, SharedState

log = logging.getLogger("risk")
REASON_CODES = {"": 0, "operator halt": 1, "kill": 2, "flatten": 3, "stop loss": 4, "take profit": 5,
                "drawdown": 6, "missed executions": 7, "daily loss": 8, "near max_position": 9}


class RiskAgent(Agent):
    name = "risk"

    def __init__(self, instance: str, instruments, risk_conf, run_dir: Path | None = None):
        self.instance, self.instruments, self.conf = instance, instruments, risk_conf
        self.journal = Journal(run_dir / "risk_book.json" if run_dir else None)
        self.last_md_s = [0.0] * len(instruments)
        self.day, self.day_start_equity = "", 0.0
        self.mismatches = 0
        self.tp_sent: dict[int, tuple[float, float]] = {}   # instrument -> (price, amount) last sent
        self.sl_fired: dict[int, float] = {}                # instrument -> position it closed
        self.limits = [Limits(risk_conf.max_position, risk_conf.max_notional, risk_conf.max_order_size,
                              risk_conf.price_band_bps, i.amount_tick, i.min_amount) for i in instruments]
        self.book = PositionBook(len(instruments))
        self.marks = [0.0] * len(instruments)
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.md = np.zeros(1, R.MD_DTYPE)
        self.ex = np.zeros(64, R.EXEC_DTYPE)
        self.pending = {}          # instrument id -> approved set waiting for room on ``orders``
        self.trading_state, self.reason = ACTIVE, ""
        self.seen = {}             # command name -> last request seq handled
        self.high_water = 0.0
        self.denied = self.lapped = self.ring_full = 0

    @classmethod
    def from_settings(cls, settings: dict) -> "RiskAgent":
        run_dir = Path(settings["run_dir"]) if settings.get("run_dir") else None
        return cls(settings["instance"], instruments_of(settings), config_of(settings).risk, run_dir)

    def on_start(self) -> None:
        self.quotes = segments.reader(self.instance, "quotes")
        self.orders = segments.writer(self.instance, "orders")
        self.exec = segments.reader(self.instance, "exec", strict=True)
        self.md_ring = segments.reader(self.instance, "md")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.ring_gateway = self.bells.bell("gateway").ring
        self.open_bid = self.state.table["open_bid"][0]   # views kept current by the gateway
        self.open_ask = self.state.table["open_ask"][0]
        s = self.state.snapshot()
        # A restarted risk process continues from the shared state (the gateway reconciles the
        # position with the exchange on its next connect and publishes it on ``exec``).
        saved = self.journal.load()
        if saved is not None:
            self.book = PositionBook.from_dict(saved["book"], len(self.instruments))
            self.high_water = saved.get("high_water", 0.0)
            self.day, self.day_start_equity = saved.get("day", ""), saved.get("day_start_equity", 0.0)
        else:   # no journal yet: one lot per instrument at the shared state's average price
            for i in range(len(self.instruments)):
                if s["position"][i]:
                    self.book.lots[i].append([float(s["average_price"][i]), float(s["position"][i])])
                    self.book.position[i] = float(s["position"][i])
            self.book.realised, self.book.fees, self.book.fills = s["realised"], s["fees"], s["fills"]
            self.high_water = s["high_water"]
        for i in range(len(self.instruments)):
            self.marks[i] = float(s["mark"][i])
        self.trading_state = s["trading_state"]
        self.reason = s["reason_text"]
        for name in ("halt", "resume", "flatten", "kill"):
            self.seen[name] = s[f"{name}_request_seq"]

    def on_close(self) -> None:
        self.journal.save(self._journal_data, force=True)
        self.open_bid = self.open_ask = self.ring_gateway = None
        for name in ("quotes", "orders", "exec", "md_ring", "state", "bells"):
            if hasattr(self, name):
                getattr(self, name).close()

    # ---- the pass ------------------------------------------------------------------------
    def do_work(self) -> int:
        # Fills first (the limits need the newest position), then the latency path: ladders
        # through the checks; marks, commands and P&L stops after.
        work = self._drain_exec()
        if self.pending:
            self._flush_pending()
        q = self.q
        while self.quotes.read_into(q):
            work += 1
            iid = int(q["instrument_id"][0])
            if iid >= len(self.instruments):
                continue
            added = approve(q, self.book.position[iid], self.marks[iid], self.limits[iid],
                            self.trading_state == HALTED, bool(self.state.get("paused")),
                            self.trading_state == REDUCING, float(self.open_bid[iid]),
                            float(self.open_ask[iid]))
            if added:
                self.denied += 1
            self._send(iid, q)
        work += self._drain_md() + self._commands()
        self._evaluate()
        if self.conf.take_profit_distance or self.conf.stop_loss_distance:
            self._exits()
        self.journal.save(self._journal_data)
        return work

    def _exits(self) -> None:
        """Take-profit as a resting reduce-only limit at the average entry +/- the distance,
        resized whenever the position changes; stop-loss as a reduce-only market order once the
        mark crosses the entry -/+ its distance (the local exchange has no conditional orders, so
        the stop is held here; Thalex's create_conditional_order would hold it on the exchange)."""
        c = self.conf
        for inst in self.instruments:
            iid, pos = inst.id, self.book.position[inst.id]
            avg, mark = self.book.average(iid), self.marks[iid]
            desired = (0.0, 0.0)
            if c.take_profit_distance and abs(pos) >= inst.min_amount and self.trading_state != HALTED:
                raw = avg + c.take_profit_distance if pos > 0 else avg - c.take_profit_distance
                price = (math.ceil(raw / inst.tick_size - 1e-9) if pos > 0
                         else math.floor(raw / inst.tick_size + 1e-9)) * inst.tick_size
                desired = (price, round(abs(pos) / inst.amount_tick) * inst.amount_tick)
            if desired != self.tp_sent.get(iid, (0.0, 0.0)):
                self.tp_sent[iid] = desired
                q = np.zeros(1, R.QUOTE_DTYPE)
                q["type"], q["instrument_id"], q["created_ts_ns"] = R.QUOTE_TP, iid, time.monotonic_ns()
                if desired[1] > 0:
                    side = ("n_asks", "ask_price", "ask_amount") if pos > 0 else ("n_bids", "bid_price", "bid_amount")
                    q[side[0]], q[side[1]][0][0], q[side[2]][0][0] = 1, desired[0], desired[1]
                self._send(iid, q, key=("tp", iid))
            if c.stop_loss_distance and abs(pos) >= inst.min_amount and mark > 0:
                crossed = mark <= avg - c.stop_loss_distance if pos > 0 else mark >= avg + c.stop_loss_distance
                if crossed and self.sl_fired.get(iid) != pos:
                    self.sl_fired[iid] = pos
                    log.warning("%s: stop-loss: mark %.2f crossed entry %.2f -/+ %.2f: closing %+.6f",
                                inst.name, mark, avg, c.stop_loss_distance, pos)
                    self._close(inst, pos)

    def _journal_data(self) -> dict:
        return {"book": self.book.to_dict(), "high_water": self.high_water, "day": self.day,
                "day_start_equity": self.day_start_equity}

    def _drain_exec(self) -> int:
        try:
            n = self.exec.read_batch(self.ex)
        except RingLappedError as exc:
            self.lapped += 1
            log.error("missed executions (%s): halting until the gateway reconciles", exc)
            self._set_state(HALTED, "missed executions")
            return 1
        for e in self.ex[:n]:
            iid, kind = int(e["instrument_id"]), int(e["type"])
            if iid >= len(self.instruments):
                continue
            if kind == R.EXEC_FILL:
                price, amount = float(e["price"]), float(e["amount"])
                rate = self.conf.maker_fee_rate if e["liquidity"] == R.LIQ_MAKER else self.conf.taker_fee_rate
                fee = float(e["fee"]) or rate * price * amount
                if not self.book.fill(iid, int(e["side"]), price, amount, fee, R.trade_id_of(e)):
                    # Expected: the trade history often reports a trade before session.orders does.
                    log.debug("%s: fill %032X already booked: ignored", self.instruments[iid].name, R.trade_id_of(e))
            elif kind == R.EXEC_TRADE:
                trade_id, fee = R.trade_id_of(e), float(e["fee"])
                if self.book.seen(trade_id):
                    self.book.correct_fee(trade_id, fee)
                else:   # a fill we had not heard of (e.g. while disconnected): book it now
                    self.book.fill(iid, int(e["side"]), float(e["price"]), float(e["amount"]), fee, trade_id)
            elif kind == R.EXEC_POSITION:
                diff = self.book.reconcile(iid, float(e["position"]), self.marks[iid])
                if diff:
                    self.mismatches += 1
                    log.warning("%s: position differed from the exchange's by %+.6f contracts: "
                                "took the exchange's (mismatch %d)", self.instruments[iid].name, diff,
                                self.mismatches)
        if n:
            self.journal.dirty = True
            self._publish_positions()
        return n

    def _drain_md(self) -> int:
        n = 0
        while self.md_ring.read_into(self.md):
            n += 1
            r = self.md[0]
            iid, mark = int(r["instrument_id"]), float(r["mark_price"])
            if iid < len(self.marks) and mark > 0:
                self.marks[iid] = mark
                t = int(r["exchange_ts_ns"]) * 1e-9
                if self.last_md_s[iid] and t > self.last_md_s[iid] and self.instruments[iid].expiry_s == 0:
                    self.book.accrue_funding(iid, float(r["funding_rate"]), float(r["index_price"]),
                                             t - self.last_md_s[iid])
                    self.journal.dirty = True
                self.last_md_s[iid] = t
        if n:
            self.state.table["mark"][0][:len(self.marks)] = self.marks
            self._publish_pnl()
        return n

    def _commands(self) -> int:
        s = self.state
        work = 0
        for name in ("kill", "halt", "flatten", "resume"):
            seq = s.get(f"{name}_request_seq")
            if seq == self.seen[name]:
                continue
            self.seen[name] = seq
            work += 1
            if name == "resume":
                self._set_state(ACTIVE, "")
            elif name == "flatten":
                self._set_state(HALTED, "flatten")
                self._flatten()
            else:
                self._set_state(HALTED, "operator halt" if name == "halt" else "kill")
        return work

    def _evaluate(self) -> None:
        """Limits that move the trading state by themselves: P&L limits and the position band."""
        if self.trading_state == HALTED:
            return
        c = self.conf
        equity = self.book.equity(self.marks)
        self.high_water = max(self.high_water, equity)
        day = time.strftime("%Y-%m-%d", time.gmtime())
        if day != self.day:
            self.day, self.day_start_equity = day, equity
            self.journal.dirty = True
        # (name, how far it has gone, limit): REDUCING from reduce_at_fraction of it, HALTED at it.
        checks = (("stop loss", -equity, c.stop_loss), ("take profit", equity, c.take_profit),
                  ("drawdown", self.high_water - equity, c.max_drawdown),
                  ("daily loss", self.day_start_equity - equity, c.max_daily_loss))
        # Hysteresis: once REDUCING for a cause, it takes 10 % of headroom back to clear it, so
        # the state does not flap on every tick at the edge.
        def band(name):
            return c.reduce_at_fraction * (0.9 if self.reason == name else 1.0)
        reducing = ""
        for name, used, limit in checks:
            if not limit:
                continue
            if used >= limit:
                self._set_state(HALTED, name)
                return
            if used >= band(name) * limit and not reducing and name != "take profit":
                reducing = name
        if not reducing and any(abs(p) >= band("near max_position") * c.max_position
                                for p in self.book.position):
            reducing = "near max_position"
        if reducing:
            self._set_state(REDUCING, reducing)
        elif self.trading_state == REDUCING:
            self._set_state(ACTIVE, "")

    def _set_state(self, new: int, reason: str) -> None:
        if new == self.trading_state and reason == self.reason:
            return
        log.warning("trading state %s -> %s%s", TRADING_STATE_NAMES[self.trading_state],
                    TRADING_STATE_NAMES[new], f" ({reason})" if reason else "")
        self.trading_state, self.reason = new, reason
        s = self.state
        s.set("trading_state", new)
        s.set("reason", REASON_CODES.get(reason, 99))
        s.set("reason_text", reason.encode()[:63])
        s.set("state_changed_ns", time.time_ns())
        if new == HALTED:
            self._pull_all(R.RISK_HALTED)

    def _pull_all(self, reason: int) -> None:
        q = np.zeros(1, R.QUOTE_DTYPE)
        for inst in self.instruments:
            q["type"], q["instrument_id"], q["reason"] = R.QUOTE_PULL, inst.id, reason
            q["created_ts_ns"] = time.monotonic_ns()
            self._send(inst.id, q)

    def _flatten(self) -> None:
        for inst in self.instruments:
            pos = self.book.position[inst.id]
            if abs(pos) < inst.min_amount:
                continue
            log.warning("%s: flattening %+.6f contracts reduce-only", inst.name, pos)
            self._close(inst, pos)

    def _close(self, inst, pos: float) -> None:
        """A reduce-only market order for ``pos`` contracts (flatten and stop-loss)."""
        q = np.zeros(1, R.QUOTE_DTYPE)
        q["type"], q["instrument_id"], q["created_ts_ns"] = R.QUOTE_FLATTEN, inst.id, time.monotonic_ns()
        q["inventory"], q["mid"] = pos, self.marks[inst.id]
        if pos > 0:
            q["n_asks"], q["ask_amount"][0][0] = 1, pos
        else:
            q["n_bids"], q["bid_amount"][0][0] = 1, -pos
        # A close must not be superseded by a later ladder: it goes out now or waits first.
        self._send(inst.id, q, key=("flatten", inst.id))

    def _send(self, iid: int, q, key=None) -> None:
        key = iid if key is None else key
        if key in self.pending or self.orders.write(q) == FULL:
            self.ring_full += key not in self.pending
            self.pending[key] = q.copy()
        else:
            self.ring_gateway()

    def _flush_pending(self) -> None:
        for key in sorted(self.pending, key=lambda k: isinstance(k, int)):
            if self.orders.write(self.pending[key]) == FULL:
                return
            del self.pending[key]
            self.ring_gateway()

    def _publish_positions(self) -> None:
        s = self.state
        s.table["position"][0][:len(self.instruments)] = self.book.position
        s.table["average_price"][0][:len(self.instruments)] = [self.book.average(i) for i in
                                                              range(len(self.instruments))]
        s.set("fills", self.book.fills)
        self._publish_pnl()

    def _publish_pnl(self) -> None:
        s, b = self.state, self.book
        unrealised = b.unrealised(self.marks)
        s.set("realised", b.realised)
        s.set("fees", b.fees)
        s.set("funding", b.funding)
        s.set("unrealised", unrealised)
        s.set("equity", b.realised + unrealised - b.fees + b.funding)
        s.set("high_water", self.high_water)

    def report(self, counters) -> None:
        counters.set("errors", self.mismatches)
        counters.set("malformed", self.book.duplicates)
        counters.set("lapped", self.lapped)
        counters.set("ring_full", self.ring_full)
