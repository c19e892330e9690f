"""The quoter process: md and trades in, one desired ladder per instrument out.

Every market record goes through the instrument's QuoteEngine (kernels/quote.pyx: estimators,
AS/GLFT, ladder, fast-cancel guard, markouts, requote tolerance); our own fills from ``exec``
feed the markouts, whose averages (and the guard's state) go to the shared state for status. A
new QuoteSet (or a PULL, on stale or bad data) goes to the gateway on the one-to-one ``quotes``
ring (it runs the pre-trade checks against what risk publishes, procs/gateway/pretrade.py) and
its doorbell is rung at once (and the core handed over when they share one): read, quote, write
and ring run in C (procs/quote_pass.pyx); then to risk and the recorder on ``quote_log``. On the
feed's core the quoter rings the feed back when its pass has published (runtime/handoff.py
hands_back). The inventory is the position the risk process keeps in the shared state, so the
quoter and the limits agree on one number. A full ``quotes`` ring is counted and the newest set
is retried on the next pass (older ones are superseded anyway). ``bin/mmctl set quoter.KEY=VALUE``
reaches it through the shared-memory parameters record (runtime/live_params.py): once per pass the
quoter compares the record's sequence with the last it took, and when it moved hands the engines
the new parameters, which keep their estimator state. Each instrument has its own parameters
([quoter] under its [instruments."NAME"] section) and engine; a change reaches only the engines
whose parameters differ. The quoter's max_position and maker fee are [risk]'s (as the instrument
sees them), copied into its parameters when the configuration is built.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from kernels.quote import ENGINE_PULLED, QuoteEngine
from procs.quote_pass import QuotePass
from procs.quoter_warmup import WarmStart
from runtime import segments
from runtime.agent import Agent
from runtime.handoff import handoff, hands_back, shares_core
from runtime.live_params import LiveParamsReader
from runtime.settings import config_of, instruments_of
from shm.doorbell import Doorbells
from shm.order_budget import BudgetReader
from shm.histogram import LatencyHistogram
from shm.one_to_one import FULL
from shm.records import EXEC_DTYPE, EXEC_FILL, MD_DTYPE, QUOTE_DTYPE, QUOTE_FLAG_FAST_CANCEL, TRADE_DTYPE
from shm.state import NOT_QUOTING_EMPTY_LADDER, NOT_QUOTING_GUARD, NOT_QUOTING_NAMES, NOT_QUOTING_NO_DATA, SharedState

log = logging.getLogger("quoter")
GUARD_PULL_BOTH = 3   # kernels/guard.pxd


class Quoter(Agent):
    name = "quoter"

    def __init__(self, instance: str, instruments, params, warm: WarmStart | None = None):
        """``params``: one QuoteParams per instrument (by id), or one for every instrument."""
        self.instance, self.instruments = instance, instruments
        self.params = list(params) if isinstance(params, (list, tuple)) else [params] * len(instruments)
        self.warm = warm               # None: start from the priors, save nothing (unit tests)
        self.dedup = None              # live trades already fed in as history (procs/quoter_seed.py)
        self.engines = [QuoteEngine(p, i.tick_size, i.amount_tick, i.min_amount, i.expiry_s)
                        for p, i in zip(self.params, instruments)]
        self.md = np.zeros(1, MD_DTYPE)
        self.trades = np.zeros(64, TRADE_DTYPE)
        self.ex = np.zeros(64, EXEC_DTYPE)
        self.fast_cancels = 0
        self.next_status_ns = 0
        self.out = np.zeros(1, QUOTE_DTYPE)
        self.pending = {}          # instrument id -> QuoteSet not yet accepted by a full ring
        self.deferred_logs: list[tuple] = []   # (level, format, args) for the next idle pass
        self.same_core = False     # with the gateway: hand it the core when ringing (runtime/handoff.py)
        self.hands_back = False    # the feed waits for our pass on its bell (runtime/handoff.py hands_back)
        self.ring_feed = None
        self.published = self.pulls = self.ring_full = self.lapped = 0
        self.budget_low_ladders = 0   # market records quoted with the wider tolerance of a low budget
        self.budget_low = False       # the last look found some instrument's budget low
        self.budget_factor = [p.budget_tolerance_factor for p in self.params]

    @classmethod
    def from_settings(cls, settings: dict) -> "Quoter":
        config, instruments = config_of(settings), instruments_of(settings)
        quoter = cls(settings["instance"], instruments, [config.quoter_for(i.name) for i in instruments],
                     WarmStart.from_settings(settings, config))
        quoter.same_core = shares_core(settings, "quoter", "gateway")
        quoter.hands_back = hands_back(settings, "feed", "quoter")
        return quoter

    def on_start(self) -> None:
        self.md_ring = segments.reader(self.instance, "md")
        self.trades_ring = segments.reader(self.instance, "trades")
        self.exec_ring = segments.reader(self.instance, "exec")
        self.quotes_ring = segments.writer(self.instance, "quotes")
        self.quote_log = segments.writer(self.instance, "quote_log")
        self.state = SharedState.attach(self.instance)
        self.budget = BudgetReader(self.state)
        self.bells = Doorbells.attach(self.instance)
        self.ring_gateway = handoff(self.bells.bell("gateway").ring, self.same_core)
        # The positions are a view of the shared state: risk's latest, read at each record.
        self.qpass = QuotePass(self.md_ring, self.quotes_ring, self.bells.bell("gateway"), self.engines,
                               self.state.table["position"][0], self.md, self.out,
                               ring_bell=not self.same_core)
        if self.hands_back:
            self.ring_feed = self.bells.bell("feed").ring
        self.live_params = LiveParamsReader.attach(self.instance)
        self.fast_cancels = self.state.get("fast_cancels")
        self.state.table["markout"][0][:len(self.engines)] = np.nan
        self.not_quoting = self.state.table["not_quoting"][0]   # a view: status reads it live
        self.not_quoting[:len(self.engines)] = NOT_QUOTING_NO_DATA
        # Per instrument counts and the md -> quote histogram go on from what the state holds
        # (a restarted quoter); copied into the state at the heartbeat (report), off the hot path.
        n = len(self.engines)
        self.published_by = [int(x) for x in self.state.table["quotes_published"][0][:n]]
        self.fast_cancels_by = [int(x) for x in self.state.table["instrument_fast_cancels"][0][:n]]
        self.md_to_quote = LatencyHistogram(self.state, "md_to_quote")
        if self.warm is not None:      # after the rings are attached: no live trade falls in a gap
            self.warm.start(self.engines, self.instruments, self.params)
            self.dedup = self.warm.dedup

    def on_close(self) -> None:
        if self.warm is not None:
            self.warm.stop(self.engines, self.instruments, self.params)
        for level, fmt, args in self.deferred_logs:
            log.log(level, fmt, *args)
        self.deferred_logs.clear()
        self.qpass = self.ring_gateway = self.ring_feed = self.not_quoting = None
        for name in ("md_ring", "trades_ring", "exec_ring", "quotes_ring", "quote_log", "state", "bells",
                     "live_params"):
            if hasattr(self, name):
                getattr(self, name).close()

    def do_work(self) -> int:
        work = 0
        if self.pending:
            self._retry_pending()
        # The latency path first: market records to ladders. Trades and our fills only feed the
        # estimators, and a burst of them (a jump sweeps the book) must not delay the pull.
        step, qp = self.qpass.step, self.qpass
        quoted = 0
        while True:
            got = step()                 # read, quote, and a ladder with news out and rung (C)
            if got < 0:
                break
            work += 1
            if got == 0:
                continue                 # an instrument we do not quote
            quoted += 1
            status = qp.status
            if status:
                self._published(qp.iid, status, qp.full)
                self._note_why_not_quoting(qp.iid, status)
        if work:
            if self.ring_feed is not None:
                self.ring_feed()     # the ladders are out: the core goes back to the feed
            # The message budget sets the requote tolerance for the next records, read after the
            # ladders left: it moves slowly, and the read cost the ladder ~15 us on a cold pass.
            if quoted:
                self._spend_budget(time.monotonic_ns(), quoted)
        n = self.trades_ring.read_batch(self.trades)
        for t in self.trades[:n]:
            iid = int(t["instrument_id"])
            if self.dedup is not None:
                if self.dedup.seen(t):
                    continue
                if self.dedup.done:
                    self.dedup = None
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
        if self.live_params.changed():      # one atomic load a pass; between batches, never mid-batch
            self._take_params()
        if work == 0:
            if self.deferred_logs:
                for level, fmt, args in self.deferred_logs:
                    log.log(level, fmt, *args)
                self.deferred_logs.clear()
            now = time.monotonic_ns()
            if now >= self.next_status_ns:
                self._publish_status()
                self.next_status_ns = now + 200_000_000
                if self.warm is not None:
                    self.warm.maybe_save(self.engines, self.instruments, self.params)
        return work

    def _publish_status(self) -> None:
        """Markouts and guard states into the shared state (for status and the recorder)."""
        table = self.state.table
        for iid, engine in enumerate(self.engines):
            m = engine.markout
            table["markout"][0][iid] = [[m.average(side, h) for h in range(3)] for side in (1, -1)]
            table["guard_state"][0][iid] = engine.guard.state if engine.guard is not None else 0
        self.state.set("fast_cancels", self.fast_cancels)
        self.state.set("budget_low_ladders", self.budget_low_ladders)

    def _published(self, iid: int, status: int, full: bool) -> None:
        """The bookkeeping of a ladder the quote pass made (procs/quote_pass.pyx): written and
        rung already, or refused by a full ring (kept and retried on the next pass)."""
        out = self.out
        if full:
            self.ring_full += 1
            self.pending[iid] = out.copy()
        else:
            self.pending.pop(iid, None)
            if not self.qpass.ring_bell:
                self.ring_gateway()      # rings and hands the core over (same core)
        self.quote_log.write(out)
        if status == ENGINE_PULLED:
            self.pulls += 1
        self.published += 1
        self.published_by[iid] += 1
        received = int(out["md_receive_ts_ns"][0])
        if received:
            self.md_to_quote.observe(int(out["created_ts_ns"][0]) - received)
        if out["flags"][0] & QUOTE_FLAG_FAST_CANCEL:
            self.fast_cancels += 1
            self.fast_cancels_by[iid] += 1
            self._later(logging.WARNING, "%s: fast cancel: the market jumped, pulling the exposed side",
                        self.instruments[iid].name)

    def _note_why_not_quoting(self, iid: int, status: int) -> None:
        """``not_quoting[iid]`` for status: the pull's reason, or why a published ladder is empty."""
        out = self.out
        if status == ENGINE_PULLED:
            why = int(out["reason"][0])
        elif out["n_bids"][0] or out["n_asks"][0]:
            why = 0
        else:
            guard = self.engines[iid].guard
            why = NOT_QUOTING_GUARD if guard is not None and guard.state == GUARD_PULL_BOTH else NOT_QUOTING_EMPTY_LADDER
        if why != self.not_quoting[iid]:
            if why:
                self._later(logging.WARNING, "%s: not quoting: %s", self.instruments[iid].name,
                            NOT_QUOTING_NAMES.get(why, why))
            else:
                self._later(logging.INFO, "%s: quoting (was: %s)", self.instruments[iid].name,
                            NOT_QUOTING_NAMES.get(int(self.not_quoting[iid]), self.not_quoting[iid]))
            self.not_quoting[iid] = why

    def _later(self, level: int, fmt: str, *args) -> None:
        """A log line written on the next pass with nothing to do: formatting and writing it
        (~0.1-0.2 ms on a busy core) would otherwise hold the core the gateway needs to send."""
        self.deferred_logs.append((level, fmt, args))

    def _retry_pending(self) -> None:
        for iid in list(self.pending):
            if self.quotes_ring.write(self.pending[iid]) == FULL:
                return
            del self.pending[iid]
            self.ring_gateway()

    def _spend_budget(self, now_ns: int, quoted: int) -> None:
        """Each engine's requote tolerance for what comes next: x budget_tolerance_factor while
        the gateway has less than budget_low_fraction of its order bucket left (shm/order_budget.py;
        nothing changes until it has published one). ``quoted``: market records just quoted."""
        if self.budget_low:
            self.budget_low_ladders += quoted        # these were quoted with the wider tolerance
        left = self.budget.fraction(now_ns)
        self.budget_low = False
        for iid, engine in enumerate(self.engines):
            low = left is not None and left < self.params[iid].budget_low_fraction
            scale = self.budget_factor[iid] if low else 1.0
            if engine.tolerance_scale != scale:
                engine.tolerance_scale = scale
            self.budget_low |= low

    def _take_params(self) -> None:
        """New parameters from shared memory to the engines whose parameters differ (estimators
        keep their state); the other instruments are left alone."""
        taken = self.live_params.take()
        if taken is None:
            return     # nothing new, a torn copy (taken next pass) or refused
        changed = []
        for iid, params in enumerate(taken[:len(self.engines)]):
            if params != self.params[iid]:
                self.engines[iid].set_params(params)
                self.params[iid] = params
                self.budget_factor[iid] = params.budget_tolerance_factor
                changed.append(self.instruments[iid].name)
        if changed:
            log.info("parameters of %s changed (version %d)", ", ".join(changed), self.live_params.taken // 2)

    def report(self, counters) -> None:
        n = len(self.engines)
        self.state.table["quotes_published"][0][:n] = self.published_by
        self.state.table["instrument_fast_cancels"][0][:n] = self.fast_cancels_by
        self.md_to_quote.flush()
        counters.set("ring_full", self.ring_full)
        counters.set("lapped", int(self.md_ring.lapped_count) if hasattr(self.md_ring, "lapped_count") else 0)
