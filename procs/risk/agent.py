"""The risk process: the books, the limits and the trading state, off the latency path.

Ladders go from the quoter to the gateway directly; the gateway checks each against what risk
publishes in the gate (shm/gate.py, written by gate_publisher.py: limits, positions booked
through an exec sequence, marks, the trading state, a heartbeat), so a dead or stuck risk process
stops quoting within gateway.risk_timeout_s. Reads ``exec`` (fills, the trade history's fee
reports and reconciled positions, with a strict reader: a missed execution would corrupt the
position, so a lap halts quoting until the gateway reconciles), ``md`` (marks, funding) and
``quote_log`` (every ladder the quoter published: counted, and what the pre-trade checks would
trim at the booked position is counted as ``denied``). Keeps FIFO positions and P&L
(position.py, persisted by journal.py), the trading state with its reason (trading_state.py),
the exits (exits.py: flatten, take-profit, stop-loss), and acts on the operator's commands posted
in the shared state (halt, resume, flatten, kill). Exits and the pulls on entering HALTED go to
the gateway on ``orders``; a full ring keeps the newest record per instrument (and every exit)
until there is room.

Counters: ``malformed`` counts input records this process cannot use (an unknown instrument id,
a fill the book refuses, a position that is not a number); ``duplicates`` counts fills reported
twice (normal: session.orders and the trade history both report every trade; booked once).
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from runtime import segments
from runtime.agent import Agent
from procs.risk.exits import Exits
from procs.risk.gate_publisher import GatePublisher
from procs.risk.journal import Journal
from procs.risk.limits import Limits, approve
from procs.risk.position import PositionBook
from procs.risk.trading_state import REASON_CODES, TradingState  # noqa: F401  (REASON_CODES: API)
from runtime.settings import config_of, instruments_of
from shm import gate
from shm import records as R
from shm.doorbell import Doorbells
from shm.errors import RingLappedError
from shm.one_to_one import FULL
from shm.state import ACTIVE, HALTED, SharedState

log = logging.getLogger("risk")


class RiskAgent(Agent):
    name = "risk"

    def __init__(self, instance: str, instruments, risk_conf, run_dir: Path | None = None):
        self.instance, self.instruments, self.conf = instance, instruments, risk_conf
        self.journal = Journal(run_dir / "risk_book.json" if run_dir else None)
        self.last_md_s = [0.0] * len(instruments)
        self.mismatches = 0
        self.limits = [Limits(risk_conf.max_position, risk_conf.max_notional, risk_conf.max_order_size,
                              risk_conf.price_band_bps, i.amount_tick, i.min_amount) for i in instruments]
        self.book = PositionBook(len(instruments))
        self.marks = [0.0] * len(instruments)
        self.exits = Exits(instruments, risk_conf.take_profit_distance, risk_conf.stop_loss_distance, self._send)
        self.trading: TradingState | None = None   # built in on_start, on the shared state
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.md = np.zeros(1, R.MD_DTYPE)
        self.ex = np.zeros(64, R.EXEC_DTYPE)
        self.pending = {}          # instrument id -> approved set waiting for room on ``orders``
        self.seen = {}             # command name -> last request seq handled
        self.denied = self.lapped = self.ring_full = self.malformed = self.ladders = 0
        self.gate: GatePublisher | None = None

    @classmethod
    def from_settings(cls, settings: dict) -> "RiskAgent":
        run_dir = Path(settings["run_dir"]) if settings.get("run_dir") else None
        return cls(settings["instance"], instruments_of(settings), config_of(settings).risk, run_dir)

    def on_start(self) -> None:
        self.quote_log = segments.reader(self.instance, "quote_log")
        self.gate = GatePublisher(gate.attach(self.instance), self.instruments, self.conf)
        self.orders = segments.writer(self.instance, "orders")
        self.exec = segments.reader(self.instance, "exec", strict=True)
        self.md_ring = segments.reader(self.instance, "md")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.ring_gateway = self.bells.bell("gateway").ring
        self.open_bid = self.state.table["open_bid"][0]   # views kept current by the gateway
        self.open_ask = self.state.table["open_ask"][0]
        self.trading = TradingState(self.conf, self.state, self._pull_all)
        t = self.trading
        s = self.state.snapshot()
        # A restarted risk process continues from the shared state (the gateway reconciles the
        # position with the exchange on its next connect and publishes it on ``exec``).
        saved = self.journal.load()
        if saved is not None:
            self.book = PositionBook.from_dict(saved["book"], len(self.instruments))
            t.high_water = saved.get("high_water", 0.0)
            t.day, t.day_start_equity = saved.get("day", ""), saved.get("day_start_equity", 0.0)
        else:   # no journal yet: one lot per instrument at the shared state's average price
            for i in range(len(self.instruments)):
                if s["position"][i]:
                    self.book.lots[i].append([float(s["average_price"][i]), float(s["position"][i])])
                    self.book.position[i] = float(s["position"][i])
            self.book.realised, self.book.fees, self.book.fills = s["realised"], s["fees"], s["fills"]
            t.high_water = s["high_water"]
        for i in range(len(self.instruments)):
            self.marks[i] = float(s["mark"][i])
        t.restore(s["trading_state"], s["reason_text"])
        for name in ("halt", "resume", "flatten", "kill"):
            self.seen[name] = s[f"{name}_request_seq"]

    def on_close(self) -> None:
        self.journal.save(self._journal_data, force=True)
        self.open_bid = self.open_ask = self.ring_gateway = None
        for name in ("quote_log", "orders", "exec", "md_ring", "state", "bells"):
            if hasattr(self, name):
                getattr(self, name).close()
        if self.gate is not None:
            self.gate.record.close()

    # ---- the pass ------------------------------------------------------------------------
    def do_work(self) -> int:
        # Fills first (the gate's positions), then the ladders seen, marks, commands and P&L
        # stops; the gate last, with everything this pass changed.
        t = self.trading
        state = t.state
        work = self._drain_exec()
        if self.pending:
            self._flush_pending()
        work += self._audit_ladders()
        work += self._drain_md() + self._commands()
        if not t.halted and t.evaluate(self.book.equity(self.marks), self.book.position,
                                       time.strftime("%Y-%m-%d", time.gmtime())):
            self.journal.dirty = True     # a new day: its opening equity is worth saving
        if self.exits.enabled:
            self.exits.update(self.book, self.marks, t.halted)
        self.gate.publish(time.monotonic_ns(), work > 0 or t.state != state, int(self.exec.cursor),
                          t.state, self.book.position, self.marks)
        self.journal.save(self._journal_data)
        return work

    def _audit_ladders(self) -> int:
        """Every ladder the quoter published (``quote_log``): counted, and checked against the
        booked position as the gateway checks it (``denied``: the checks would trim it)."""
        n, q, t = 0, self.q, self.trading
        while self.quote_log.read_into(q):
            n += 1
            iid = int(q["instrument_id"][0])
            if iid >= len(self.instruments):
                self.malformed += 1
                continue
            if approve(q, self.book.position[iid], self.marks[iid], self.limits[iid], t.halted,
                       t.paused, t.reducing, float(self.open_bid[iid]), float(self.open_ask[iid])):
                self.denied += 1
        self.ladders += n
        return n

    def _journal_data(self) -> dict:
        t = self.trading
        return {"book": self.book.to_dict(), "high_water": t.high_water, "day": t.day,
                "day_start_equity": t.day_start_equity}

    def _drain_exec(self) -> int:
        try:
            n = self.exec.read_batch(self.ex)
        except RingLappedError as exc:
            self.lapped += 1
            log.error("missed executions (%s): halting until the gateway reconciles", exc)
            self.trading.set(HALTED, "missed executions")
            return 1
        for e in self.ex[:n]:
            iid, kind = int(e["instrument_id"]), int(e["type"])
            if iid >= len(self.instruments):
                self.malformed += 1
                continue
            try:
                self._book_exec(iid, kind, e)
            except ValueError as exc:   # the book refuses it: counted, never booked
                self.malformed += 1
                log.error("%s: execution %d refused (%s): not booked", self.instruments[iid].name, kind, exc)
        if n:
            self.journal.dirty = True
            self._publish_positions()
        return n

    def _book_exec(self, iid: int, kind: int, e) -> None:
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
                self.book.correct_fee(trade_id, fee)   # NaN (fee unknown): the booked fee stays
            else:   # a fill we had not heard of (e.g. while disconnected): book it now
                price, amount = float(e["price"]), float(e["amount"])
                if fee != fee:   # no fee in the report: estimate it (taker rate unless maker)
                    rate = self.conf.maker_fee_rate if e["liquidity"] == R.LIQ_MAKER else self.conf.taker_fee_rate
                    fee = rate * price * amount
                self.book.fill(iid, int(e["side"]), price, amount, fee, trade_id)
        elif kind == R.EXEC_POSITION:
            position = float(e["position"])
            if not math.isfinite(position):
                raise ValueError(f"position={position}: expected a finite number of contracts")
            diff = self.book.reconcile(iid, position, self.marks[iid])
            if diff:
                self.mismatches += 1
                log.warning("%s: position differed from the exchange's by %+.6f contracts: "
                            "took the exchange's (mismatch %d)", self.instruments[iid].name, diff,
                            self.mismatches)

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
                self.trading.set(ACTIVE, "")
            elif name == "flatten":
                self.trading.set(HALTED, "flatten")
                self.exits.flatten(self.book, self.marks)
            else:
                self.trading.set(HALTED, "operator halt" if name == "halt" else "kill")
        return work

    # ---- onto ``orders`` ---------------------------------------------------------------------
    def _pull_all(self, reason: int) -> None:
        q = np.zeros(1, R.QUOTE_DTYPE)
        for inst in self.instruments:
            q["type"], q["instrument_id"], q["reason"] = R.QUOTE_PULL, inst.id, reason
            q["created_ts_ns"] = time.monotonic_ns()
            self._send(inst.id, q)

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

    # ---- into the shared state ---------------------------------------------------------------
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
        s.set("high_water", self.trading.high_water)

    def report(self, counters) -> None:
        counters.set("errors", self.mismatches)
        counters.set("malformed", self.malformed)
        counters.set("duplicates", self.book.duplicates)
        counters.set("lapped", self.lapped)
        counters.set("ring_full", self.ring_full)
