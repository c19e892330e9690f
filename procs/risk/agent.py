"""The risk process: the books, the limits and the trading state, off the latency path.

Ladders go from the quoter to the gateway directly; the gateway checks each against what risk
publishes in the gate (shm/gate.py, written by gate_publisher.py: per-instrument limits,
positions booked through an exec sequence, marks, the trading state, the portfolio's figures,
what blocks quoting, a heartbeat), so a dead or stuck risk process stops quoting within
gateway.risk_timeout_s. Reads ``exec`` (fills, the trade history's fee reports, reconciled
positions and the gateway's reconcile markers, with a strict reader: a missed execution would
corrupt the position), ``md`` (marks, funding) and ``quote_log`` (every ladder the quoter
published: counted, and what the pre-trade checks would trim at the booked position is counted
as ``denied``). Keeps FIFO positions and P&L (position.py, persisted by journal.py), the trading
state with its reason (trading_state.py), the exits (exits.py: flatten, take-profit, stop-loss),
and acts on the operator's commands posted in the shared state (halt, resume, flatten, kill;
pause is a flag the gateway reads). Exits and the pulls on entering HALTED or on becoming
unreconciled go to the gateway on ``orders``; a full ring keeps the newest record per instrument
(and every exit) until there is room.

Nothing booked is lost and nothing is booked twice (journal.py says why precisely): a restarted
risk process loads its journal and reads ``exec`` again from the sequence the journal stands at;
when the ring no longer holds it, the gateway's replay of the exchange's trade history covers
the gap. Either way it asks the gateway to reconcile (reconcile.py) and the gate blocks quoting
(RISK_RECONCILING) until the answer is booked. It also asks after a lap of ``exec`` and after an
execution it refuses (validate.py): such an execution is counted, logged once per reason and
never booked.

While the gate blocks (HALTED, reconciling, paused, risk silent) the gateway pulls at once and
keeps the quoter's newest ladder, so resume, the end of a pause and a finished reconciliation
quote again at once, even in a market too quiet for the quoter to publish anew.

Limits per instrument ([risk] under each one's [instruments."NAME"] section) and across them
(portfolio.py: net delta per underlying, gross notional, in USD): the account's trading state
is one for every instrument.

Counters: ``malformed`` counts input records this process cannot use (an unknown instrument id,
an execution it refuses, a position that is not a number); ``duplicates`` counts fills reported
twice (normal: session.orders and the trade history both report every trade; booked once).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from runtime import segments
from runtime.agent import Agent
from procs.risk.exits import Exits
from procs.risk.gate_publisher import GatePublisher
from procs.risk.journal import Journal
from procs.risk.limits import Limits, approve
from procs.risk.portfolio import Portfolio, PortfolioLimits
from procs.risk.position import PositionBook
from procs.risk.reconcile import Reconciliation
from procs.risk.trading_state import REASON_CODES, TradingState  # noqa: F401  (REASON_CODES: API)
from procs.risk.validate import max_fill_of, refusal
from runtime.settings import config_of, instruments_of
from shm import gate
from shm import records as R
from shm.doorbell import Doorbells
from shm.errors import RingLappedError
from shm.one_to_one import FULL
from shm.state import ACTIVE, HALTED, SharedState

log = logging.getLogger("risk")
BOOKED_KINDS = (R.EXEC_FILL, R.EXEC_TRADE, R.EXEC_POSITION)


class RiskAgent(Agent):
    name = "risk"

    def __init__(self, instance: str, instruments, risk_conf, run_dir: Path | None = None,
                 instrument_risk: list | None = None):
        """``risk_conf`` the [risk] section (the account's limits, fees, exits); ``instrument_risk``
        [risk] as each instrument sees it (its own limits), by id (default: risk_conf for all)."""
        self.instance, self.instruments, self.conf = instance, instruments, risk_conf
        self.journal = Journal(run_dir / "risk_book.json" if run_dir else None)
        self.last_md_s = [0.0] * len(instruments)
        self.mismatches = 0
        per = instrument_risk or [risk_conf] * len(instruments)
        self.limits = [Limits(r.max_position, r.max_notional, r.max_order_size, r.price_band_bps,
                              i.amount_tick, i.min_amount) for r, i in zip(per, instruments)]
        self.max_positions = [lim.max_position for lim in self.limits]
        self.portfolio = Portfolio(instruments, PortfolioLimits.from_risk(risk_conf))
        self.instrument_fills = [0] * len(instruments)
        self.max_fill = max_fill_of(risk_conf)
        self.book = PositionBook(len(instruments))
        self.marks = [0.0] * len(instruments)
        self.exits = Exits(instruments, risk_conf.take_profit_distance, risk_conf.stop_loss_distance, self._send)
        self.trading: TradingState | None = None   # built in on_start, on the shared state
        self.reconciliation: Reconciliation | None = None
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.md = np.zeros(1, R.MD_DTYPE)
        self.ex = np.zeros(64, R.EXEC_DTYPE)
        self.pending = {}          # instrument id -> approved set waiting for room on ``orders``
        self.seen = {}             # command name -> last request seq handled
        self.refusals: dict[str, int] = {}   # what was refused (the field) -> how many times
        self.denied = self.lapped = self.ring_full = self.malformed = self.ladders = 0
        self.gate: GatePublisher | None = None

    @classmethod
    def from_settings(cls, settings: dict) -> "RiskAgent":
        run_dir = Path(settings["run_dir"]) if settings.get("run_dir") else None
        config, instruments = config_of(settings), instruments_of(settings)
        return cls(settings["instance"], instruments, config.risk, run_dir,
                   [config.risk_for(i.name) for i in instruments])

    def on_start(self) -> None:
        self.quote_log = segments.reader(self.instance, "quote_log")
        self.gate = GatePublisher(gate.attach(self.instance), self.instruments, self.limits, self.portfolio)
        self.orders = segments.writer(self.instance, "orders")
        self.md_ring = segments.reader(self.instance, "md")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.ring_gateway = self.bells.bell("gateway").ring
        self.open_bid = self.state.table["open_bid"][0]   # views kept current by the gateway
        self.open_ask = self.state.table["open_ask"][0]
        self.trading = TradingState(self.conf, self.state, self._pull_all)
        self.reconciliation = Reconciliation(self.state, self.ring_gateway)
        t = self.trading
        s = self.state.snapshot()
        saved = self.journal.load()
        start = "newest"
        if saved is not None:
            self.book = PositionBook.from_dict(saved["book"], len(self.instruments))
            t.high_water = saved.get("high_water", 0.0)
            t.day, t.day_start_equity = saved.get("day", ""), saved.get("day_start_equity", 0.0)
            self.reconciliation.newest_trade_ns = int(saved.get("newest_trade_ns", 0))
            start = self._resume_point(saved.get("exec", {}))
        else:
            # No journal (a new run, or one that cannot be trusted): an empty book, and the
            # gateway replays the account's whole trade history into it (replay_since_ns 0).
            log.info("no risk journal: starting from an empty book; the exchange's trade history "
                     "is replayed into it")
        self.exec = segments.reader(self.instance, "exec", strict=True, start=start)
        for i in range(len(self.instruments)):
            self.marks[i] = float(s["mark"][i])
            self.instrument_fills[i] = int(s["instrument_fills"][i])   # a restart goes on counting
        self.portfolio.update(self.book.position, self.marks)
        t.restore(s["trading_state"], s["reason_text"])
        for name in ("halt", "resume", "flatten", "kill"):
            self.seen[name] = s[f"{name}_request_seq"]
        self._publish_positions()
        self.state.set("exec_booked_seq", self.exec.cursor + 1)
        self._pull_all(R.RISK_RECONCILING)
        self.reconciliation.request("risk started")

    def _resume_point(self, exec_at: dict):
        """Where to read ``exec`` from: the journal's sequence when this ring still holds it,
        else the newest record (the replay of the trade history covers what lies between)."""
        seq, ring = exec_at.get("seq"), exec_at.get("ring")
        probe = segments.reader(self.instance, "exec")
        try:
            same_ring = ring is not None and list(probe.identity) == list(ring)
            if seq is not None and same_ring and probe.holds(seq):
                log.info("continuing from the journal at exec sequence %d (%d executions to read "
                         "again)", seq, probe.tail - seq)
                return int(seq)
            why = "another ring (a new run)" if not same_ring else (
                f"the ring holds {probe.oldest}..{probe.tail}")
            log.warning("the journal stands at exec sequence %s, which this ring cannot replay (%s): "
                        "the exchange's trade history covers the gap", seq, why)
            return "newest"
        finally:
            probe.close()

    def on_close(self) -> None:
        if hasattr(self, "exec"):
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
        state, reconciled = t.state, self.reconciliation.reconciled
        work = self._drain_exec()
        if self.pending:
            self._flush_pending()
        work += self._audit_ladders()
        work += self._drain_md() + self._commands()
        if not t.halted and t.evaluate(self.book.equity(self.marks), self.book.position,
                                       time.strftime("%Y-%m-%d", time.gmtime()), self.max_positions,
                                       self.portfolio.checks()):
            self.journal.dirty = True     # a new day: its opening equity is worth saving
        if self.exits.enabled:
            self.exits.update(self.book, self.marks, t.halted)
        self.reconciliation.poll()
        self.gate.publish(time.monotonic_ns(), work > 0 or t.state != state
                          or self.reconciliation.reconciled != reconciled, int(self.exec.cursor),
                          t.state, self.book.position, self.marks, self.reconciliation.reconciled,
                          self.portfolio)
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
                       t.paused, t.reducing and not self.portfolio.reduces_delta(iid),
                       float(self.open_bid[iid]), float(self.open_ask[iid])):
                self.denied += 1
        self.ladders += n
        return n

    def _journal_data(self) -> dict:
        t = self.trading
        return {"book": self.book.to_dict(), "high_water": t.high_water, "day": t.day,
                "day_start_equity": t.day_start_equity,
                "exec": {"seq": int(self.exec.cursor), "ring": list(self.exec.identity)},
                "newest_trade_ns": self.reconciliation.newest_trade_ns}

    # ---- executions ----------------------------------------------------------------------
    def _drain_exec(self) -> int:
        lapped = None
        try:
            n = self.exec.read_batch(self.ex)
        except RingLappedError as exc:    # what was read before the lap is good: book it
            n, lapped = exc.read, exc
        for e in self.ex[:n]:
            if int(e["type"]) == R.EXEC_RECONCILED:
                self.reconciliation.on_marker(int(e["seq"]))
            else:
                self._take(e)
        if lapped is not None:
            self.lapped += 1
            log.error("missed executions (%s)", lapped)
            if self.reconciliation.request("missed executions"):
                self._pull_all(R.RISK_RECONCILING)
        if n or lapped is not None:
            self.journal.dirty = True
            self._publish_positions()
            self.state.set("exec_booked_seq", self.exec.cursor + 1)
        return n + (lapped is not None)

    def _take(self, e) -> None:
        """One execution record: validated, then booked; refused ones start a reconciliation."""
        kind, iid = int(e["type"]), int(e["instrument_id"])
        if iid >= len(self.instruments):
            self.malformed += 1
            return
        if kind not in BOOKED_KINDS:
            return
        why = refusal(e, self.marks[iid], self.max_fill, time.time_ns())
        if not why:
            try:
                booked = self.book.fills
                self._book_exec(iid, kind, e)
                self.instrument_fills[iid] += self.book.fills - booked
                return
            except ValueError as exc:   # the book refuses it
                why = str(exc)
        self._refuse(iid, kind, why)

    def _refuse(self, iid: int, kind: int, why: str) -> None:
        self.malformed += 1
        field = why.split("=", 1)[0].split(":", 1)[0]
        count = self.refusals[field] = self.refusals.get(field, 0) + 1
        if count == 1 or count % 1000 == 0:
            log.error("%s: execution (type %d) refused, not booked (%s; %d refused for %s so far): "
                      "reconciling with the exchange", self.instruments[iid].name, kind, why, count, field)
        if self.reconciliation.request(f"refused an execution: {why}"):
            self._pull_all(R.RISK_RECONCILING)

    def _book_exec(self, iid: int, kind: int, e) -> None:
        side, ts_ns = int(e["side"]), int(e["exchange_ts_ns"])
        if kind == R.EXEC_FILL:
            price, amount = float(e["price"]), float(e["amount"])
            rate = self.conf.maker_fee_rate if e["liquidity"] == R.LIQ_MAKER else self.conf.taker_fee_rate
            fee = float(e["fee"]) or rate * price * amount   # 0: the order update carries no fee
            if self.book.fill(iid, side, price, amount, fee, R.trade_id_of(e)):
                self.reconciliation.booked_trade(ts_ns)
            else:   # expected: the trade history often reports a trade before session.orders does
                log.debug("%s: fill %032X already booked: ignored", self.instruments[iid].name, R.trade_id_of(e))
        elif kind == R.EXEC_TRADE:
            trade_id, fee = R.trade_id_of(e), float(e["fee"])
            if self.book.seen(trade_id, side):
                self.book.correct_fee(trade_id, side, fee)   # NaN (fee unknown): the booked fee stays
            else:   # a fill we had not heard of (e.g. while disconnected): book it now
                price, amount = float(e["price"]), float(e["amount"])
                if fee != fee:   # no fee in the report: estimate it (taker rate unless maker)
                    rate = self.conf.maker_fee_rate if e["liquidity"] == R.LIQ_MAKER else self.conf.taker_fee_rate
                    fee = rate * price * amount
                self.book.fill(iid, side, price, amount, fee, trade_id)
                self.reconciliation.booked_trade(ts_ns)
        else:   # EXEC_POSITION, finite (validate.py)
            diff = self.book.reconcile(iid, float(e["position"]), self.marks[iid])
            if diff:
                self.mismatches += 1
                log.warning("%s: position differed from the exchange's by %+.6f contracts: "
                            "took the exchange's (mismatch %d)", self.instruments[iid].name, diff,
                            self.mismatches)

    # ---- market data, commands, pause ------------------------------------------------------
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
        for inst in self.instruments:
            self._pull(inst.id, reason)

    def _pull(self, iid: int, reason: int) -> None:
        q = np.zeros(1, R.QUOTE_DTYPE)
        q["type"], q["instrument_id"], q["reason"] = R.QUOTE_PULL, iid, reason
        q["created_ts_ns"] = time.monotonic_ns()
        self._send(iid, q)

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
        s.table["instrument_fills"][0][:len(self.instruments)] = self.instrument_fills
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
        self.portfolio.update(b.position, self.marks)
        self.portfolio.publish(s)

    def report(self, counters) -> None:
        counters.set("errors", self.mismatches + self.journal.refused)
        counters.set("malformed", self.malformed)
        counters.set("duplicates", self.book.duplicates)
        counters.set("lapped", self.lapped)
        counters.set("ring_full", self.ring_full)
