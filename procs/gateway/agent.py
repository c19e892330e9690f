"""The gateway process: approved ladders in, Thalex private websocket out, executions back.

On every (re)connect: login, ``set_cancel_on_disconnect`` (the exchange pulls our quotes if we
go silent), ``set_mm_protection`` per product, ``session.orders`` subscription, then
reconciliation before quoting again: the exchange's positions are published on ``exec`` as
EXEC_POSITION (risk adopts them) and every leftover order of the account is cancelled.

Ladders from ``orders`` are coalesced per instrument (only the newest matters) and sent as one
``private/mass_quote`` per instrument; an identical level keeps its queue priority on Thalex. The
matching-engine token bucket (venue/ratelimit.py) paces them; a code-4 answer starts a
cooldown. A PULL empties both sides; a FLATTEN becomes a reduce-only market order; a TP replaces
the instrument's resting reduce-only take-profit limit (cancel the old one, insert the new one),
and is placed again after every reconnect or cancel-all that removed it. Every order
update from ``session.orders`` is decoded into EXEC records (acks, fills, cancels) for risk, the
quoter and the recorder; failed quote sides become EXEC_REJECT records carrying the error code.

Operator and supervisor requests in the shared state (kill, cancel before a restart) cancel the
mass quotes and every order at once, ahead of anything queued.
"""
from __future__ import annotations

import logging
import time
from collections import deque

import numpy as np

from runtime import segments
from runtime.agent import Agent
from runtime.reconnect import ReconnectPolicy
from runtime.settings import config_of, instruments_of
from procs.gateway.executions import ExecutionsMixin
from procs.gateway.ladder_orders import LadderOrders
from venue.client import ThalexClient
from venue.errors import ThalexConnectionError, ThalexError
from venue.decode.frame import FrameDecoder
from venue.ratelimit import ThalexLimits, THROTTLED
from venue.token import load_private_key
from shm import records as R
from shm.doorbell import Doorbells
from shm.state import SharedState

log = logging.getLogger("gateway")


def label_for(exchange_ts_ns: int) -> str:
    """The label that ties an order to the ticker it reacts to (the exchange measures the gap)."""
    return f"tt{round(exchange_ts_ns / 1000)}"


class Gateway(ExecutionsMixin, Agent):
    name = "gateway"

    def __init__(self, instance: str, url: str, key_id: str, key_file: str, instruments, gw_conf,
                 reconnect: ReconnectPolicy, account: str = "", timeout_s: float = 5.0):
        self.instance, self.url, self.key_id, self.key_file = instance, url, key_id, key_file
        self.instruments, self.conf, self.account = instruments, gw_conf, account
        self.timeout_s, self.reconnect = timeout_s, reconnect
        self.by_name = {i.name: i for i in instruments}
        self.client: ThalexClient | None = None
        self.q = np.zeros(1, R.QUOTE_DTYPE)
        self.ex = np.zeros(64, R.EXEC_DTYPE)
        self.decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), exec_out=self.ex,
                                    instrument_ids={i.name: i.id for i in instruments})
        self.decoder.add("session.orders", 0)
        self.desired: dict[int, np.ndarray] = {}    # newest approved set per instrument, unsent
        self.flattens: list[np.ndarray] = []
        self.last_sent: dict[int, np.ndarray] = {}
        self.tp_desired: dict[int, np.ndarray] = {}   # instrument -> the take-profit risk wants
        self.tp_live: dict[int, int] = {}             # instrument -> client_order_id resting
        self.tp_dirty: set[int] = set()
        self.next_cid = 1000
        self.inflight: dict[int, tuple[float, float]] = {}   # instrument -> ladder sent, unanswered
        self.send_lat: deque[int] = deque(maxlen=1000)     # market record received -> ladder sent, ns
        self.fast_lat: deque[int] = deque(maxlen=1000)     # the same for fast cancels
        self.fast_sends = 0
        self.mmp_refill: dict[str, float] = {}      # product -> monotonic time to refill it
        self.live: dict[int, tuple[int, int, float]] = {}   # order id -> (instrument, side, remaining)
        self.limits = ThalexLimits.from_config(gw_conf, time.monotonic_ns())
        self.next_connect_s = 0.0
        self.seen = {}
        self.sent = self.rejects = self.throttled = self.connects = 0
        self.exec_seq = 0
        # Without mass quoting: each instrument's ladder as individual orders (ladder_orders.py).
        self.ladders = {i.id: LadderOrders(i.name, self.limits, self._new_cid) for i in instruments}

    @classmethod
    def from_settings(cls, settings: dict) -> "Gateway":
        c = config_of(settings)
        return cls(settings["instance"], settings["venue_url"], settings["key_id"], settings["key_file"],
                   instruments_of(settings), c.gateway, ReconnectPolicy.from_config(c.venue),
                   c.venue.account, c.venue.request_timeout_s)

    # ---- lifecycle -------------------------------------------------------------------------
    def on_start(self) -> None:
        self.orders = segments.reader(self.instance, "orders")
        self.exec_ring = segments.writer(self.instance, "exec")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.listeners = [self.bells.bell("risk").ring, self.bells.bell("quoter").ring]
        s = self.state.snapshot()
        for name in ("kill", "cancel"):
            self.seen[name] = s[f"{name}_request_seq"]
        self.pem = load_private_key(self.key_file)
        self._connect()

    def on_close(self) -> None:
        if self.client is not None:
            try:   # leave nothing resting when we stop on purpose
                self._cancel_all_orders(timeout_s=2.0)
            except (ThalexError, ThalexConnectionError, TimeoutError):
                pass
            self.client.close()
        if hasattr(self, "state"):
            self.state.set("connected", 0)
            self.state.set("quoting", 0)
        self.listeners = []
        for name in ("orders", "exec_ring", "state", "bells"):
            if hasattr(self, name):
                getattr(self, name).close()

    def _connect(self) -> None:
        client = ThalexClient(self.url, timeout_s=self.timeout_s)
        client.connect()
        try:
            client.frame_hook = self._on_frame
            client.login(self.key_id, self.pem, self.account or None)
            now = time.monotonic_ns()
            rate = client.set_cancel_on_disconnect(self.conf.cancel_on_disconnect_s)
            self.limits.set_cancel_on_disconnect(now, (rate or {}).get("message_rate"))
            self.client = client
            client.private_subscribe(["session.orders", "account.trade_history"]
                                     + (["session.mm_protection"] if self.conf.mass_quote else []))
            self._reconcile()
        except BaseException:
            client.close()
            self.client = None
            raise
        self.connects += 1
        self.reconnect.reset()
        self.state.set("connected", 1)
        log.info("connected to %s (connection %d)", self.url, self.connects)

    def _arm_mmp(self) -> None:
        """Configure market-maker protection for every product we quote. Needed after every
        connect and after every cancel_mass_quote, which resets the groups (THALEX_API.md 5)."""
        if self.conf.mass_quote:
            for product in sorted({i.product for i in self.instruments}):
                self.client.set_mm_protection(product, self.conf.mmp_trade_amount, self.conf.mmp_quote_amount)
        self.mmp_refill.clear()

    def _reconcile(self) -> None:
        """Positions from the exchange onto ``exec``; leftover orders of the account cancelled (and
        market-maker protection armed, which cancel_mass_quote resets)."""
        self.live.clear()
        self._cancel_all_orders()
        self._arm_mmp()
        self.tp_dirty.update(self.tp_desired)
        rec = np.zeros(1, R.EXEC_DTYPE)
        # Fills we may have missed while away come first (risk books each trade once, by id),
        # then the exchange's positions, which risk adopts when they differ from its own.
        history = self.client.trade_history(limit=1000) or {}
        trades = sorted(history.get("trades") or [], key=lambda t: t.get("time", 0))
        self._publish_trades(trades)
        held = {p.get("instrument_name"): p.get("position", 0.0) for p in self.client.portfolio()}
        for inst in self.instruments:
            rec[0] = 0
            rec["type"], rec["instrument_id"] = R.EXEC_POSITION, inst.id
            rec["position"], rec["receive_ts_ns"] = float(held.get(inst.name) or 0.0), time.monotonic_ns()
            self._write_exec(rec)
        # Whatever was desired before the reconnect is sent again from scratch.
        self._publish_open()

    # ---- work ------------------------------------------------------------------------------
    def do_work(self) -> int:
        if self.client is None:
            if time.monotonic() >= self.next_connect_s:
                self._try_reconnect()
            return self._drain_orders()
        try:
            # The latency path first: approved ladders out, then whatever the exchange sent.
            work = self._drain_orders()
            if self.desired or self.flattens or self.tp_dirty:
                self._send_ready()
            work += self._commands()
            work += self.client.poll(0.0)
            if self.mmp_refill:
                self._refill_mmp()
        except ThalexConnectionError as exc:
            self._lost(str(exc))
            return 0
        return work

    def _commands(self) -> int:
        work = 0
        for name in ("kill", "cancel"):
            seq = self.state.get(f"{name}_request_seq")
            if seq != self.seen[name]:
                self.seen[name] = seq
                self._cancel_everything(f"{name} request")
                self.state.set(f"{name}_done_seq", seq)
                work += 1
        return work

    def _cancel_everything(self, why: str) -> None:
        log.warning("cancelling every order (%s)", why)
        self.desired.clear()
        n = self._cancel_all_orders()
        log.info("cancel_all removed %s orders", n)
        self._arm_mmp()
        if why != "kill request":     # a kill leaves nothing resting; a restart's cancel re-places it
            self.tp_dirty.update(self.tp_desired)

    def _cancel_all_orders(self, timeout_s: float | None = None):
        """The one cancel-all (stop, kill, restart, reconnect): the account's mass quotes (when we
        mass-quote: an account that may not would refuse the call), then every order; what we knew
        rests is forgotten. Returns cancel_all's count. cancel_mass_quote resets the MMP groups: a
        caller that quotes on re-arms them (``_arm_mmp``)."""
        if self.conf.mass_quote:
            self.client.cancel_mass_quote(timeout_s=timeout_s)
        n = self.client.cancel_all(timeout_s=timeout_s)
        for ladder in self.ladders.values():
            ladder.clear()
        self.tp_live.clear()
        return n

    def _drain_orders(self) -> int:
        n = 0
        q = self.q
        while self.orders.read_into(q):
            n += 1
            iid = int(q["instrument_id"][0])
            if iid >= len(self.instruments):
                continue
            if q["type"][0] == R.QUOTE_FLATTEN:
                self.flattens.append(q.copy())
            elif q["type"][0] == R.QUOTE_TP:
                self.tp_desired[iid] = q.copy()
                self.tp_dirty.add(iid)
            else:
                self.desired[iid] = q.copy()
        return n

    def _send_ready(self) -> None:
        now = time.monotonic_ns()
        while self.flattens and self.limits.try_order(now):
            self._send_flatten(self.flattens.pop(0))
        while self.tp_dirty and self.limits.try_order(now):
            self._replace_tp(self.tp_dirty.pop())
        for iid in list(self.desired):
            if not self.conf.mass_quote:
                q = self.desired[iid]
                ts = int(q["md_exchange_ts_ns"][0])
                if self.ladders[iid].apply(self.client, q, label_for(ts) if ts else None, now):
                    del self.desired[iid]
                    self._note_sent(q)
                continue
            if self.instruments[iid].product in self.mmp_refill and self.desired[iid]["type"][0] == R.QUOTE_SET:
                continue   # its protection group is exhausted: quotes would be refused until refilled
            if not self.limits.try_order(now):
                return
            q = self.desired.pop(iid)
            self.last_sent[iid] = q
            self._send_quote(q)

    def _send_quote(self, q: np.ndarray) -> None:
        r = q[0]
        inst = self.instruments[int(r["instrument_id"])]
        item = {"i": inst.name}
        if r["type"] == R.QUOTE_PULL:
            item["b"], item["a"] = [], []
        else:
            nb, na = int(r["n_bids"]), int(r["n_asks"])
            item["b"] = [list(level) for level in zip(r["bid_price"][:nb].tolist(), r["bid_amount"][:nb].tolist())]
            item["a"] = [list(level) for level in zip(r["ask_price"][:na].tolist(), r["ask_amount"][:na].tolist())]
        # Until the exchange answers, the new ladder may be live beside fills of the old one.
        self.inflight[inst.id] = (sum(a for _, a in item["b"]), sum(a for _, a in item["a"]))
        ts = int(r["md_exchange_ts_ns"])
        label = label_for(ts) if ts else None
        self.client.mass_quote([item], label=label, post_only=True, wait=False,
                               callback=lambda result, error, iid=inst.id: self._quote_reply(iid, result, error))
        self._note_sent(q)
        self._publish_open()

    def _note_sent(self, q: np.ndarray) -> None:
        """Count a ladder that left, and how long after its market record it left."""
        r = q[0]
        self.sent += 1
        received = int(r["md_receive_ts_ns"])
        if received:
            fast = bool(r["flags"] & R.QUOTE_FLAG_FAST_CANCEL)
            (self.fast_lat if fast else self.send_lat).append(time.monotonic_ns() - received)
            self.fast_sends += fast   # after the send: the exposure it adds is booked before risk's next look

    def _quote_reply(self, iid: int, result, error) -> None:
        self.inflight.pop(iid, None)
        self._publish_open()
        if error is not None:
            self._reject(iid, error.code, f"mass_quote: {error}")
            return
        self.limits.on_accepted()
        for err in (result or {}).get("errors") or []:
            self._reject(iid, int(err.get("code", 0)), f"mass_quote side {err.get('side')}: {err.get('message')}")

    def _reject(self, iid: int, code: int, text: str) -> None:
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
        self._write_exec(rec)

    def _new_cid(self) -> int:
        self.next_cid += 1
        return self.next_cid

    def _replace_tp(self, iid: int) -> None:
        """Cancel the instrument's take-profit order (if any) and insert the desired one (if any)."""
        inst, q = self.instruments[iid], self.tp_desired[iid]
        old = self.tp_live.pop(iid, None)
        if old is not None:
            self.client.cancel(client_order_id=old, wait=False, callback=lambda result, error: None)
        r = q[0]
        sell = int(r["n_asks"]) > 0
        if not (sell or int(r["n_bids"]) > 0):
            return
        price = float(r["ask_price"][0] if sell else r["bid_price"][0])
        amount = float(r["ask_amount"][0] if sell else r["bid_amount"][0])
        cid = self.tp_live[iid] = self._new_cid()
        log.info("%s: take-profit %s %.6f @ %.2f reduce-only", inst.name, "sell" if sell else "buy", amount, price)
        self.client.insert("sell" if sell else "buy", inst.name, amount, price, client_order_id=cid,
                           reduce_only=True, post_only=True, label="tp", wait=False,
                           callback=lambda result, error: error and self._reject(iid, error.code, f"take-profit: {error}"))

    def _send_flatten(self, q: np.ndarray) -> None:
        iid = int(q["instrument_id"][0])
        inst = self.instruments[iid]
        sell = int(q["n_asks"][0]) > 0
        amount = float(q["ask_amount"][0][0] if sell else q["bid_amount"][0][0])
        amount = round(amount / inst.amount_tick) * inst.amount_tick
        log.warning("%s: flatten: market %s %.6f reduce-only", inst.name, "sell" if sell else "buy", amount)
        self.client.insert("sell" if sell else "buy", inst.name, amount, order_type="market",
                           reduce_only=True, wait=False,
                           callback=lambda result, error: error and self._reject(iid, error.code, f"flatten: {error}"))

    # ---- connection loss ---------------------------------------------------------------------
    def _lost(self, why: str) -> None:
        delay_s = self.reconnect.next_delay_s()
        log.error("private connection lost (%s): the exchange cancels our quotes "
                  "(cancel-on-disconnect); reconnecting in %.2fs", why, delay_s)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.live.clear()
        self.inflight.clear()
        self.state.set("connected", 0)
        self._publish_open()
        self.next_connect_s = time.monotonic() + delay_s

    def _try_reconnect(self) -> None:
        try:
            self._connect()
        except (ThalexConnectionError, ThalexError, TimeoutError, OSError) as exc:
            self.client = None
            delay_s = self.reconnect.next_delay_s()
            self.next_connect_s = time.monotonic() + delay_s
            log.warning("reconnect failed (%s); next try in %.2fs", exc, delay_s)

    def report(self, counters) -> None:
        counters.set("errors", self.rejects)
        s = self.state
        for name, samples in (("send", self.send_lat), ("fast_send", self.fast_lat)):
            if samples:
                p50, p99 = np.percentile(samples, (50, 99))
                s.set(f"{name}_p50_ns", int(p50))
                s.set(f"{name}_p99_ns", int(p99))
                if name == "send":
                    counters.set("latency_p50_ns", int(p50))
                    counters.set("latency_p99_ns", int(p99))
        s.set("fast_sends", self.fast_sends)
