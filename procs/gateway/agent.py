"""The gateway process: ladders in, checked, Thalex private websocket out, executions back.

The pieces, each given what it uses:

    quotes ring (quoter) --> Gateway._drain_quotes --+--> Quoting (ladders: mass_quote or
    orders ring (risk)   --> Gateway._drain_orders --+    LadderOrders; each checked by PreTrade
                                                     |    right before it leaves)
                                                     +--> Exits (flatten, take-profit)
    gate (risk: limits, positions, state, heartbeat) --> PreTrade <-- ExecTap, OpenOrders, paused
    Session (connect, login, protection, reconcile, reconnect) owns the ThalexClient
    client frames --> Executions --> ExecTap --> exec ring (+ OpenOrders --> open_bid/open_ask)
    md ring (feed) --> Tripwire --> Quoting.trip (a one-sided pull; ladders stripped while it holds)

One pass (``do_work``), latency path first: the market records waiting, through the tripwire
(tripwire.pyx: the quoter's fast-cancel guard; a jump pulls the exposed side at once, one hop
before the quoter's own pull could come), drain risk's ``orders`` and the quoter's ``quotes``,
the next part of a replay (replay.py: reconciliation's trades, positions and marker, paced to
risk's cursor), take the newest gate (a block that starts pulls every instrument we quote, one
that lifts sends the newest ladders again), send what is ready (exits first, then ladders, which
wait while a reconcile holds them back), then the operator's, supervisor's and risk's requests in
the shared state (kill, cancel before a restart: cancel the mass quotes and every order at once;
reconcile: replay trades and positions), then whatever the exchange sent (poll), then a
reconciliation an unreadable execution asked for, then due protection refills. A lost connection
is retried with a backoff while both rings keep being drained (only the newest ladder per
instrument is kept).
"""
from __future__ import annotations

import itertools
import logging
import os
import time

import numpy as np

from runtime import segments
from runtime.agent import Agent
from runtime.reconnect import ReconnectPolicy
from runtime.live_params import LiveParamsReader
from runtime.settings import config_of, instruments_of
from kernels.guard import MoveGuard
from procs.gateway.executions import Executions
from procs.gateway.exits import Exits
from procs.gateway.ladder_orders import LadderOrders
from procs.gateway.open_orders import OpenOrders
from procs.gateway.pretrade import ExecTap, PreTrade
from procs.gateway.quoting import Quoting, label_for  # noqa: F401  (label_for: part of the API)
from procs.gateway.replay import Replay
from procs.gateway.session import MmpRefills, Session
from procs.gateway.tripwire import Tripwire
from venue.errors import ThalexConnectionError
from venue.decode.frame import FrameDecoder
from venue.ratelimit import ThalexLimits
from venue.token import load_private_key
from shm import gate, records as R
from shm.doorbell import Doorbells
from shm.histogram import LatencyHistogram
from shm.order_budget import BudgetWriter
from shm.gate import GateView
from shm.latency import HopLatency
from shm.state import SharedState

log = logging.getLogger("gateway")
COMMANDS_NS = 1_000_000    # the shared state's requests and the budget's refresh, at most this far apart
FIRST_CLIENT_ORDER_ID = 1001
HOPS_EVERY_NS = 500_000_000   # per-hop percentiles into shm/latency.py this often
POLL_FRAMES = 1               # frames read per pass: a burst of fills never holds a ladder back


class Gateway(Agent):
    name = "gateway"

    def __init__(self, instance: str, url: str, key_id: str, key_file: str, instruments, gw_conf,
                 reconnect: ReconnectPolicy, account: str = "", timeout_s: float = 5.0,
                 mmp_amounts: dict | None = None, quote_params=None):
        """``mmp_amounts``: product -> (trade_amount, quote_amount), market-maker protection per
        Thalex product group ([products."NAME"]); absent products take gw_conf's amounts.
        ``quote_params``: one QuoteParams per instrument (the quoter's), whose fast-cancel
        settings the tripwire takes (procs/gateway/tripwire.pyx); None: no tripwire."""
        self.quote_params = list(quote_params) if quote_params is not None and gw_conf.tripwire else None
        self.mmp_amounts = mmp_amounts or {}
        self.instance, self.url, self.key_id, self.key_file = instance, url, key_id, key_file
        self.instruments, self.conf, self.account = instruments, gw_conf, account
        self.timeout_s, self.reconnect = timeout_s, reconnect
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.limits = ThalexLimits.from_config(gw_conf, time.monotonic_ns())
        self.seen = {}             # request name -> last sequence handled
        self.quoting_blocked = True   # no gate yet: nothing is quoted until risk has written it
        self.budget_spent = None       # (quoting.sent, cooldown end) when the budget was last published
        self.next_slow_ns = 0          # the next read of the shared state's requests (COMMANDS_NS)
        self.next_hops_ns = 0
        # Built in on_start, once the rings and the shared state are attached.
        self.session = self.quoting = self.exits = self.executions = self.open_orders = None
        self.pretrade = None
        self.tripwire = None          # built in on_start when quote_params are given
        self.trips_logged = 0

    @classmethod
    def from_settings(cls, settings: dict) -> "Gateway":
        c, instruments = config_of(settings), instruments_of(settings)
        return cls(settings["instance"], settings["venue_url"], settings["key_id"], settings["key_file"],
                   instruments, c.gateway, ReconnectPolicy.from_config(c.venue),
                   c.venue.account, c.venue.request_timeout_s,
                   {i.product: c.mmp_for(i.product) for i in instruments},
                   [c.quoter_for(i.name) for i in instruments])

    # ---- lifecycle -------------------------------------------------------------------------
    def on_start(self) -> None:
        self.orders = segments.reader(self.instance, "orders")
        self.quotes = segments.reader(self.instance, "quotes")
        self.exec_ring = ExecTap(segments.writer(self.instance, "exec"))
        self.gate = GateView(gate.attach(self.instance))
        self.latency = HopLatency.attach(self.instance)
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        # Risk books every execution at once; the quoter (markouts only) reads them on its next
        # pass: ringing it on every fill of a burst would take the core from the ladders it sends.
        self.listeners = [self.bells.bell("risk").ring]
        s = self.state.snapshot()
        for name in ("kill", "cancel", "reconcile"):
            self.seen[name] = s[f"{name}_request_seq"]   # a reconcile asked for already: connect answers it
        self._build(load_private_key(self.key_file))
        if self.quote_params is not None:
            self._watch_market()
        self.session.connect()

    def _watch_market(self) -> None:
        """Our own reader of the market records and one guard per instrument (tripwire.pyx)."""
        self.md_ring = segments.reader(self.instance, "md")
        self.live_params = LiveParamsReader.attach(self.instance)
        guards = [trip_guard(p, i.tick_size) for p, i in zip(self.quote_params, self.instruments)]
        self.tripwire = self.quoting.tripwire = Tripwire(self.md_ring, guards, np.zeros(1, R.MD_DTYPE))

    def _build(self, private_key) -> None:
        """The pieces, wired: each receives exactly what it uses."""
        instruments, conf, limits = self.instruments, self.conf, self.limits
        # Client order ids are shared by the single-order ladders and the take-profits.
        new_cid = itertools.count(FIRST_CLIENT_ORDER_ID).__next__
        ladders = {i.id: LadderOrders(i.name, limits, new_cid) for i in instruments}
        decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), exec_out=np.zeros(64, R.EXEC_DTYPE),
                               instrument_ids={i.name: i.id for i in instruments})
        decoder.add("session.orders", 0)
        mmp = MmpRefills()
        self.open_orders = OpenOrders(len(instruments), self.state)
        self.executions = Executions(instruments, self.exec_ring, self.listeners, decoder, self.open_orders,
                                     None if conf.mass_quote else ladders, limits, mmp)
        self.pretrade = PreTrade(self.gate, self.exec_ring, self.open_orders, self.state.table["paused"],
                                 conf.risk_timeout_s, instruments)
        self.quoting = Quoting(instruments, conf.mass_quote, limits, ladders, self.open_orders,
                               self.executions.reject, mmp, self.pretrade)
        self.md_to_send = self.quoting.histogram = LatencyHistogram(self.state, "md_to_send")
        self.token_wait = self.quoting.token_wait = LatencyHistogram(self.state, "token_wait")
        self.budget = BudgetWriter(self.state)
        self.exits = Exits(instruments, limits, new_cid, self.executions.reject)
        replay = Replay(instruments, self.executions, self.state, self.exec_ring)
        self.session = Session(self.url, self.key_id, private_key, self.account, self.timeout_s,
                               self.reconnect, conf, instruments, limits, self.state, self.executions,
                               self.open_orders, self.quoting, self.exits, mmp, replay, self.mmp_amounts)
        replay.on_done = self.session.replay_done
        self.executions.on_invalid = self.session.invalid_execution

    def on_close(self) -> None:
        if self.session is not None:
            self.session.close()
        if hasattr(self, "state"):
            self.state.set("connected", 0)
            self.state.set("quoting", 0)
        self.listeners = []
        if self.executions is not None:
            self.executions.listeners = []
        self.pretrade = None
        if self.quoting is not None:
            self.quoting.tripwire = None
        self.tripwire = None
        for name in ("orders", "quotes", "exec_ring", "gate", "latency", "state", "bells", "md_ring",
                     "live_params"):
            if hasattr(self, name):
                getattr(self, name).close()

    # ---- work ------------------------------------------------------------------------------
    def do_work(self) -> int:
        session = self.session
        # The market first: a jump pulls the exposed side before any ladder (tripwire.pyx).
        work = self._trips() if self.tripwire is not None else 0
        if session.client is None:
            if session.reconnect_due():
                session.try_reconnect()
            work += self._drain_orders() + self._drain_quotes()
            self._gate(time.monotonic_ns())
            return work
        try:
            # The latency path first: ladders checked and out, then whatever the exchange sent.
            work += self._drain_orders() + self._drain_quotes()
            replay = session.replay
            if replay.active:
                work += replay.step(session.client)
            elif replay.due:
                work += replay.retry(session.client)
            now = time.monotonic_ns()
            self._gate(now)
            if self.quoting.desired or self.exits.pending:
                self.exits.send_ready(session.client, now)
                if not replay.holds_quoting:
                    sent = self.quoting.sent
                    self.quoting.send_ready(session.client, now)
                    if self.quoting.sent != sent:
                        # Our write woke the exchange's reader; where it shares our core (the local
                        # exchange on a laptop) it reads the ladder before our bookkeeping, not
                        # after (~1 us when nobody else is runnable). Three probe pairs: tick to
                        # order p50 654/679/678 -> 582/632/667 us, p99 1301/1223/1630 -> 1033/1195/1307.
                        os.sched_yield()
            spent = (self.quoting.sent, self.limits.cooldown_until_ns)
            if spent != self.budget_spent or now >= self.next_slow_ns:
                self.budget.publish(self.limits, now)    # what is left for the quoter to spend
                self.budget_spent = spent
            if now >= self.next_slow_ns:
                # Requests in the shared state (kill, cancel, reconcile): read every COMMANDS_NS,
                # not every pass: three reads cost ~10 us, which a ladder arriving would wait for.
                work += self._commands()
                self.next_slow_ns = now + COMMANDS_NS
                if self.tripwire is not None:
                    if self.quoting.sigma_due:
                        self.quoting.pass_sigma()
                    if self.live_params.changed():
                        self._take_params()
            work += session.client.poll(0.0, POLL_FRAMES)
            if session.reconcile_due:
                work += session.reconcile_if_due()
            if session.mmp.due:
                session.refill_mmp()
            if not work and not self.quoting.desired:
                self.quoting.rehearse()      # nothing to do: keep the latency path warm
        except ThalexConnectionError as exc:
            session.lost(str(exc))
            return 0
        return work

    def _trips(self) -> int:
        """Every market record waiting through the tripwire; a trip pulls the side it exposes
        (Quoting.trip), a settled trip sends a ladder it stripped again. Returns the pulls and
        resends: a record read is not work, because the record the feed rang us early for is the
        sign that its ladder follows, and work ends the window in which we keep looking for that
        ladder (runtime/idle.py Backoff)."""
        n, tw, step = 0, self.tripwire, self.tripwire.step
        while True:
            got = step()
            if got < 0:
                return n
            if got == 1 and self.quoting.trip(self.session.client, tw, time.monotonic_ns()):
                n += 1
            elif got == 2:
                n += self.quoting.settled(tw.iid)

    def _take_params(self) -> None:
        """New quoter parameters (bin/mmctl set): a guard whose fast-cancel settings changed is
        rebuilt, its window empty, as the quoter's is."""
        taken = self.live_params.take()
        if taken is None:
            return
        for iid, params in enumerate(taken[:len(self.instruments)]):
            if params.guard_settings() != self.quote_params[iid].guard_settings():
                self.tripwire.set_guard(iid, trip_guard(params, self.instruments[iid].tick_size))
            self.quote_params[iid] = params

    def _drain_orders(self) -> int:
        n = 0
        q = self.q
        while self.orders.read_into(q):
            n += 1
            iid = int(q["instrument_id"][0])
            if iid >= len(self.instruments):
                continue
            if q["type"][0] == R.QUOTE_FLATTEN:
                self.exits.want_flatten(q)
            elif q["type"][0] == R.QUOTE_TP:
                self.exits.want_take_profit(iid, q)
            else:
                self.quoting.want(iid, q)
        return n

    def _drain_quotes(self) -> int:
        """The quoter's ladders: the newest per instrument waits to be checked and sent."""
        n = 0
        q, want, count = self.q, self.quoting.want_ladder, len(self.instruments)
        while self.quotes.read_into(q):
            n += 1
            iid = int(q["instrument_id"][0])
            if iid < count:
                want(iid, q)
        return n

    def _gate(self, now: int) -> None:
        """The newest gate; a block that starts pulls every instrument, one that lifts quotes again."""
        block = self.pretrade.refresh(now)
        if bool(block) == self.quoting_blocked:
            return
        self.quoting_blocked = bool(block)
        if block:
            log.warning("quoting blocked (%s): pulling every quote", ", ".join(blocked_by(block)))
            self.quoting.blocked(block)
        else:
            log.info("quoting unblocked: sending the newest ladders")
            self.quoting.unblocked()

    def _commands(self) -> int:
        work = 0
        for name in ("kill", "cancel"):
            seq = self.state.get(f"{name}_request_seq")
            if seq != self.seen[name]:
                self.seen[name] = seq
                self.session.cancel_everything(f"{name} request")
                self.state.set(f"{name}_done_seq", seq)
                work += 1
        seq = self.state.get("reconcile_request_seq")
        if seq != self.seen["reconcile"]:   # risk restarted, missed or refused executions
            self.seen["reconcile"] = seq
            work += 1 + self.session.replay.request(self.session.client, hold_quoting=False)
        return work

    def report(self, counters) -> None:
        counters.set("errors", self.executions.rejects)
        counters.set("malformed", self.executions.invalid)
        now = time.monotonic_ns()
        if now < self.next_hops_ns:
            return       # percentiles twice a second: sorting 1000 samples is not free on a busy core
        self.next_hops_ns = now + HOPS_EVERY_NS
        self.latency.publish("ladder", np.asarray(self.quoting.hops, dtype=np.int64).reshape(-1, 5))
        self.latency.publish("fast", np.asarray(self.quoting.fast_hops, dtype=np.int64).reshape(-1, 5))
        s = self.state
        for name, samples in (("send", self.quoting.send_lat), ("fast_send", self.quoting.fast_lat)):
            if samples:
                p50, p99 = np.percentile(samples, (50, 99))
                s.set(f"{name}_p50_ns", int(p50))
                s.set(f"{name}_p99_ns", int(p99))
                if name == "send":
                    counters.set("latency_p50_ns", int(p50))
                    counters.set("latency_p99_ns", int(p99))
        s.set("fast_sends", self.quoting.fast_sends)
        q = self.quoting
        if q.trip_pulls != self.trips_logged:     # logged here, off the pass that sent the pull
            log.warning("tripwire: %d pull(s) of an exposed side on a market jump (%d in all)",
                        q.trip_pulls - self.trips_logged, q.trip_pulls)
            self.trips_logged = q.trip_pulls
        s.set("trip_pulls", q.trip_pulls)
        s.set("fast_followups", q.followups)
        # For /metrics: the md -> send histogram, the rate limits' buckets and throttles.
        self.md_to_send.flush()
        self.token_wait.flush()
        s.set("pulls_by_cancel", self.quoting.pulls_by_cancel)
        s.set("cancel_tokens", self.limits.cancels.tokens)
        s.set("throttled", self.limits.throttled_count)
        s.set("orders_sent", self.quoting.sent)


def trip_guard(params, tick_size: float):
    """The quoter's fast-cancel guard for one instrument (kernels/params.py fc_*), without the
    volatility-jump criterion (per-record sigma is the quoter's alone), or None when it is off."""
    if not params.fast_cancel:
        return None
    return MoveGuard(params.fc_window_s, params.fc_move_ticks * tick_size, params.fc_sigma_multiple, 0.0,
                     params.fc_settle_s)


BLOCK_NAMES = {R.RISK_HALTED: "HALTED", R.RISK_PAUSED: "paused",
               R.RISK_RECONCILING: "reconciling with the exchange",
               R.RISK_GATE_STALE: "no word from risk within gateway.risk_timeout_s"}


def blocked_by(block: int) -> list[str]:
    """The names of the RISK_* bits in ``block`` (unknown bits by value)."""
    names = [name for bit, name in BLOCK_NAMES.items() if block & bit]
    rest = block & ~sum(BLOCK_NAMES)
    return names + ([f"0x{rest:x}"] if rest else [])
