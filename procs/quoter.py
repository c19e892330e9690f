"""The quoter process: md and trades in, one desired ladder per instrument out.

Every market record goes through the instrument's QuoteEngine (kernels/quote.pyx: estimators,
AS/GLFT, ladder, fast-cancel guard, markouts, requote tolerance); our own fills from ``exec``
feed the markouts, whose averages (and the guard's state) go to the shared state for status. A new QuoteSet (or a PULL, on stale or bad data) goes to
the risk process on the one-to-one ``quotes`` ring and to the recorder on ``quote_log``. The
inventory is the position the risk process keeps in the shared state, so the quoter and the
limits agree on one number. A full ``quotes`` ring is counted and the newest set is retried on
the next pass (older ones are superseded anyway). ``bin/mmctl set quoter.KEY=VALUE`` bumps
``params_version``; the quoter then rereads settings.json and hands the engines new parameters,
keeping their estimator state.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from kernels.quote import QuoteEngine
from runtime import segments
from runtime.agent import Agent
from runtime.settings import config_of, instruments_of
from shm.doorbell import Doorbells
from shm.records import EXEC_DTYPE, EXEC_FILL, MD_DTYPE, QUOTE_DTYPE, QUOTE_FLAG_FAST_CANCEL, TRADE_DTYPE
from shm.state import NOT_QUOTING_EMPTY_LADDER, NOT_QUOTING_GUARD, NOT_QUOTING_NAMES, NOT_QUOTING_NO_DATA, SharedState

log = logging.getLogger("quoter")
FULL = 1
GUARD_PULL_BOTH = 3   # kernels/guard.pxd


class Quoter(Agent):
    name = "quoter"

    def __init__(self, instance: str, instruments, params, max_position: float, run_dir: Path | None = None):
        self.instance, self.instruments, self.run_dir = instance, instruments, run_dir
        limited = params.__class__(**{**vars(params), "max_position": min(params.max_position, max_position)})
        self.engines = [QuoteEngine(limited, i.tick_size, i.amount_tick, i.min_amount, i.expiry_s)
                        for i in instruments]
        self.md = np.zeros(1, MD_DTYPE)
        self.trades = np.zeros(64, TRADE_DTYPE)
        self.ex = np.zeros(64, EXEC_DTYPE)
        self.fast_cancels = 0
        self.next_status_ns = 0
        self.out = np.zeros(1, QUOTE_DTYPE)
        self.pending = {}          # instrument id -> QuoteSet not yet accepted by a full ring
        self.seq = 0
        self.published = self.pulls = self.ring_full = self.lapped = 0
        self.params_version = 0

    @classmethod
    def from_settings(cls, settings: dict, run_dir: Path | None = None) -> "Quoter":
        c = config_of(settings)
        return cls(settings["instance"], instruments_of(settings), c.quoter, c.risk.max_position,
                   Path(settings["run_dir"]) if "run_dir" in settings else run_dir)

    def on_start(self) -> None:
        self.md_ring = segments.reader(self.instance, "md")
        self.trades_ring = segments.reader(self.instance, "trades")
        self.exec_ring = segments.reader(self.instance, "exec")
        self.quotes_ring = segments.writer(self.instance, "quotes")
        self.quote_log = segments.writer(self.instance, "quote_log")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.ring_risk = self.bells.bell("risk").ring
        self.positions = self.state.table["position"][0]   # a view: always the current value
        self.params_version = self.state.get("params_version")
        self.fast_cancels = self.state.get("fast_cancels")
        self.state.table["markout"][0][:len(self.engines)] = np.nan
        self.not_quoting = self.state.table["not_quoting"][0]   # a view: status reads it live
        self.not_quoting[:len(self.engines)] = NOT_QUOTING_NO_DATA

    def on_close(self) -> None:
        self.positions = self.ring_risk = self.not_quoting = None
        for name in ("md_ring", "trades_ring", "exec_ring", "quotes_ring", "quote_log", "state", "bells"):
            if hasattr(self, name):
                getattr(self, name).close()

    def do_work(self) -> int:
        work = 0
        if self.pending:
            self._retry_pending()
        # The latency path first: market records to ladders. Trades and our fills only feed the
        # estimators, and a burst of them (a jump sweeps the book) must not delay the pull.
        md, engines, out = self.md, self.engines, self.out
        while self.md_ring.read_into(md):
            work += 1
            iid = int(md["instrument_id"][0])
            if iid >= len(engines):
                continue
            status = engines[iid].quote(md, float(self.positions[iid]), 0.0, 0.0, out)
            if status:
                self._publish(iid, status)
                self._note_why_not_quoting(iid, status)
        n = self.trades_ring.read_batch(self.trades)
        for t in self.trades[:n]:
            iid = int(t["instrument_id"])
            if iid < len(self.engines):
                self.engines[iid].on_trade(float(t["price"]), float(t["amount"]), int(t["side"]),
                                           int(t["exchange_ts_ns"]) * 1e-9)
        work += n
        n = self.exec_ring.read_batch(self.ex)
        for e in self.ex[:n]:
            iid = int(e["instrument_id"])
            if e["type"] == EXEC_FILL and iid < len(self.engines):
                self.engines[iid].on_fill(int(e["side"]), float(e["price"]), int(e["exchange_ts_ns"]) * 1e-9)
        work += n
        if work == 0:
            if self.state.get("params_version") != self.params_version:
                self._reload_params()
            now = time.monotonic_ns()
            if now >= self.next_status_ns:
                self._publish_status()
                self.next_status_ns = now + 200_000_000
        return work

    def _publish_status(self) -> None:
        """Markouts and guard states into the shared state (for status and the recorder)."""
        table = self.state.table
        for iid, engine in enumerate(self.engines):
            m = engine.markout
            table["markout"][0][iid] = [[m.average(side, h) for h in range(3)] for side in (1, -1)]
            table["guard_state"][0][iid] = engine.guard.state if engine.guard is not None else 0
        self.state.set("fast_cancels", self.fast_cancels)

    def _publish(self, iid: int, status: int) -> None:
        out = self.out
        self.seq += 1
        out["seq"] = self.seq
        out["created_ts_ns"] = time.monotonic_ns()
        if out["flags"][0] & QUOTE_FLAG_FAST_CANCEL:
            self.fast_cancels += 1
            log.warning("%s: fast cancel: the market jumped, pulling the exposed side",
                        self.instruments[iid].name)
        self.quote_log.write(out)
        if status == 2:
            self.pulls += 1
        self.published += 1
        if self.quotes_ring.write(out) == FULL:
            self.ring_full += 1
            self.pending[iid] = out.copy()
        else:
            self.pending.pop(iid, None)
        self.ring_risk()

    def _note_why_not_quoting(self, iid: int, status: int) -> None:
        """``not_quoting[iid]`` for status: the pull's reason, or why a published ladder is empty."""
        out = self.out
        if status == 2:
            why = int(out["reason"][0])
        elif out["n_bids"][0] or out["n_asks"][0]:
            why = 0
        else:
            guard = self.engines[iid].guard
            why = NOT_QUOTING_GUARD if guard is not None and guard.state == GUARD_PULL_BOTH else NOT_QUOTING_EMPTY_LADDER
        if why != self.not_quoting[iid]:
            if why:
                log.warning("%s: not quoting: %s", self.instruments[iid].name, NOT_QUOTING_NAMES.get(why, why))
            else:
                log.info("%s: quoting (was: %s)", self.instruments[iid].name,
                         NOT_QUOTING_NAMES.get(int(self.not_quoting[iid]), self.not_quoting[iid]))
            self.not_quoting[iid] = why

    def _retry_pending(self) -> None:
        for iid in list(self.pending):
            if self.quotes_ring.write(self.pending[iid]) == FULL:
                return
            del self.pending[iid]

    def _reload_params(self) -> None:
        self.params_version = self.state.get("params_version")
        if self.run_dir is None:
            return
        settings = json.loads((self.run_dir / "settings.json").read_text())
        c = config_of(settings)
        params = c.quoter.__class__(**{**vars(c.quoter),
                                       "max_position": min(c.quoter.max_position, c.risk.max_position)})
        for engine in self.engines:
            engine.set_params(params)
        log.info("parameters reloaded (version %d)", self.params_version)

    def report(self, counters) -> None:
        counters.set("ring_full", self.ring_full)
        counters.set("lapped", int(self.md_ring.lapped_count) if hasattr(self.md_ring, "lapped_count") else 0)
