"""The gateway process: approved ladders in, Thalex private websocket out, executions back.

The pieces, each given what it uses:

    orders ring --> Gateway._drain_orders --+--> Quoting (ladders: mass_quote or LadderOrders)
                                            +--> Exits (flatten, take-profit)
    Session (connect, login, protection, reconcile, reconnect) owns the ThalexClient
    client frames --> Executions --> exec ring (+ OpenOrders --> open_bid/open_ask, quoting)

One pass (``do_work``), latency path first: drain the orders ring, the next part of a replay
(replay.py: reconciliation's trades, positions and marker, paced to risk's cursor), send what is
ready (exits first, then ladders, which wait while a reconcile holds them back), then the
operator's, supervisor's and risk's requests in the shared state (kill, cancel before a restart:
cancel the mass quotes and every order at once; reconcile: replay trades and positions), then
whatever the exchange sent (poll), then a reconciliation an unreadable execution asked for, then
due protection refills. A lost connection is retried with a backoff
while the orders ring keeps being drained (only the newest ladder per instrument is kept).
"""
from __future__ import annotations

import itertools
import logging
import time

import numpy as np

from runtime import segments
from runtime.agent import Agent
from runtime.reconnect import ReconnectPolicy
from runtime.settings import config_of, instruments_of
from procs.gateway.executions import Executions
from procs.gateway.exits import Exits
from procs.gateway.ladder_orders import LadderOrders
from procs.gateway.open_orders import OpenOrders
from procs.gateway.quoting import Quoting, label_for  # noqa: F401  (label_for: part of the API)
from procs.gateway.replay import Replay
from procs.gateway.session import MmpRefills, Session
from venue.errors import ThalexConnectionError
from venue.decode.frame import FrameDecoder
from venue.ratelimit import ThalexLimits
from venue.token import load_private_key
from shm import records as R
from shm.doorbell import Doorbells
from shm.histogram import LatencyHistogram
from shm.state import SharedState

log = logging.getLogger("gateway")
FIRST_CLIENT_ORDER_ID = 1001


class Gateway(Agent):
    name = "gateway"

    def __init__(self, instance: str, url: str, key_id: str, key_file: str, instruments, gw_conf,
                 reconnect: ReconnectPolicy, account: str = "", timeout_s: float = 5.0,
                 mmp_amounts: dict | None = None):
        """``mmp_amounts``: product -> (trade_amount, quote_amount), market-maker protection per
        Thalex product group ([products."NAME"]); absent products take gw_conf's amounts."""
        self.mmp_amounts = mmp_amounts or {}
        self.instance, self.url, self.key_id, self.key_file = instance, url, key_id, key_file
        self.instruments, self.conf, self.account = instruments, gw_conf, account
        self.timeout_s, self.reconnect = timeout_s, reconnect
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.limits = ThalexLimits.from_config(gw_conf, time.monotonic_ns())
        self.seen = {}             # request name -> last sequence handled
        # Built in on_start, once the rings and the shared state are attached.
        self.session = self.quoting = self.exits = self.executions = self.open_orders = None

    @classmethod
    def from_settings(cls, settings: dict) -> "Gateway":
        c, instruments = config_of(settings), instruments_of(settings)
        return cls(settings["instance"], settings["venue_url"], settings["key_id"], settings["key_file"],
                   instruments, c.gateway, ReconnectPolicy.from_config(c.venue),
                   c.venue.account, c.venue.request_timeout_s,
                   {i.product: c.mmp_for(i.product) for i in instruments})

    # ---- lifecycle -------------------------------------------------------------------------
    def on_start(self) -> None:
        self.orders = segments.reader(self.instance, "orders")
        self.exec_ring = segments.writer(self.instance, "exec")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.listeners = [self.bells.bell("risk").ring, self.bells.bell("quoter").ring]
        s = self.state.snapshot()
        for name in ("kill", "cancel", "reconcile"):
            self.seen[name] = s[f"{name}_request_seq"]   # a reconcile asked for already: connect answers it
        self._build(load_private_key(self.key_file))
        self.session.connect()

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
        self.quoting = Quoting(instruments, conf.mass_quote, limits, ladders, self.open_orders,
                               self.executions.reject, mmp)
        self.md_to_send = self.quoting.histogram = LatencyHistogram(self.state, "md_to_send")
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
        for name in ("orders", "exec_ring", "state", "bells"):
            if hasattr(self, name):
                getattr(self, name).close()

    # ---- work ------------------------------------------------------------------------------
    def do_work(self) -> int:
        session = self.session
        if session.client is None:
            if session.reconnect_due():
                session.try_reconnect()
            return self._drain_orders()
        try:
            # The latency path first: approved ladders out, then whatever the exchange sent.
            work = self._drain_orders()
            replay = session.replay
            if replay.active:
                work += replay.step(session.client)
            elif replay.due:
                work += replay.retry(session.client)
            if self.quoting.desired or self.exits.pending:
                now = time.monotonic_ns()
                self.exits.send_ready(session.client, now)
                if not replay.holds_quoting:
                    self.quoting.send_ready(session.client, now)
            work += self._commands()
            work += session.client.poll(0.0)
            if session.reconcile_due:
                work += session.reconcile_if_due()
            if session.mmp.due:
                session.refill_mmp()
        except ThalexConnectionError as exc:
            session.lost(str(exc))
            return 0
        return work

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
        # For /metrics: the md -> send histogram, the rate limits' buckets and throttles.
        self.md_to_send.flush()
        s.set("order_tokens", self.limits.orders.tokens)
        s.set("cancel_tokens", self.limits.cancels.tokens)
        s.set("throttled", self.limits.throttled_count)
        s.set("orders_sent", self.quoting.sent)
