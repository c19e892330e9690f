"""The gateway's ladders: the newest approved set per instrument, sent when tokens allow.

Ladders from ``orders`` are coalesced per instrument (only the newest matters) and sent as one
``private/mass_quote`` per instrument; an identical level keeps its queue priority on Thalex.
Without mass quoting each ladder is kept as single orders (ladder_orders.py). The matching-engine
token bucket (venue/ratelimit.py) paces both. A mass_quote in flight counts as open until its
reply (open_orders.py); a refused side becomes an EXEC_REJECT (executions.py). Every ladder
that leaves adds a sample of how long after its market record it left (ns), kept apart for
fast cancels.
"""
from __future__ import annotations

from collections import deque
import time

import numpy as np

from venue.decode.account import QuoteError, mass_quote_errors
from shm import records as R


def label_for(exchange_ts_ns: int) -> str:
    """The label that ties an order to the ticker it reacts to (the exchange measures the gap)."""
    return f"tt{round(exchange_ts_ns / 1000)}"


class Quoting:
    def __init__(self, instruments, mass_quote: bool, limits, ladders, open_orders, reject, mmp):
        """
        instruments  our Instrument list (id = index)
        mass_quote   True: one private/mass_quote per ladder; False: single orders (``ladders``)
        limits       ThalexLimits shared by everything the connection sends
        ladders      instrument id -> LadderOrders (used without mass quoting)
        open_orders  OpenOrders (a mass_quote in flight is counted there until answered)
        reject       Executions.reject(iid, code, text) for refused quote sides
        mmp          MmpRefills: no ladder for a product whose protection group is exhausted
        """
        self.instruments, self.mass_quote, self.limits = instruments, mass_quote, limits
        self.ladders, self.open_orders, self.reject, self.mmp = ladders, open_orders, reject, mmp
        self.desired: dict[int, np.ndarray] = {}    # newest approved set per instrument, unsent
        self.last_sent: dict[int, np.ndarray] = {}
        self.send_lat: deque[int] = deque(maxlen=1000)     # market record received -> ladder sent, ns
        self.fast_lat: deque[int] = deque(maxlen=1000)     # the same for fast cancels
        self.fast_sends = 0
        self.sent = 0
        self.histogram = None    # shm.histogram.LatencyHistogram of md -> send (every ladder that leaves), or None

    def want(self, iid: int, q: np.ndarray) -> None:
        """The newest approved set (or PULL) of instrument ``iid`` (a copy is kept)."""
        self.desired[iid] = q.copy()

    def send_ready(self, client, now: int) -> None:
        """Send what is desired while the token bucket allows (``now``: monotonic ns)."""
        for iid in list(self.desired):
            if not self.mass_quote:
                q = self.desired[iid]
                ts = int(q["md_exchange_ts_ns"][0])
                if self.ladders[iid].apply(client, q, label_for(ts) if ts else None, now):
                    del self.desired[iid]
                    self._note_sent(q)
                continue
            if self.mmp.exhausted(self.instruments[iid].product) and self.desired[iid]["type"][0] == R.QUOTE_SET:
                continue   # its protection group is exhausted: quotes would be refused until refilled
            if not self.limits.try_order(now):
                return
            q = self.desired.pop(iid)
            self.last_sent[iid] = q
            self._send_quote(client, q)

    def _send_quote(self, client, q: np.ndarray) -> None:
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
        self.open_orders.inflight[inst.id] = (sum(a for _, a in item["b"]), sum(a for _, a in item["a"]))
        ts = int(r["md_exchange_ts_ns"])
        label = label_for(ts) if ts else None
        client.mass_quote([item], label=label, post_only=True, wait=False,
                          callback=lambda result, error, iid=inst.id: self._quote_reply(iid, result, error))
        self._note_sent(q)
        self.open_orders.publish()

    def _note_sent(self, q: np.ndarray) -> None:
        """Count a ladder that left, and how long after its market record it left."""
        r = q[0]
        self.sent += 1
        received = int(r["md_receive_ts_ns"])
        if received:
            fast = bool(r["flags"] & R.QUOTE_FLAG_FAST_CANCEL)
            latency = time.monotonic_ns() - received
            (self.fast_lat if fast else self.send_lat).append(latency)
            if self.histogram is not None:
                self.histogram.observe(latency)
            self.fast_sends += fast   # after the send: the exposure it adds is booked before risk's next look

    def _quote_reply(self, iid: int, result, error) -> None:
        self.open_orders.inflight.pop(iid, None)
        self.open_orders.publish()
        if error is not None:
            self.reject(iid, error.code, f"mass_quote: {error}")
            return
        self.limits.on_accepted()
        try:
            errors = mass_quote_errors(result)
        except ValueError as exc:
            errors = [QuoteError(0, str(exc))]
        for err in errors:
            self.reject(iid, err.code, f"mass_quote side {err.side} price {err.price}: {err.message}")

    def forget_resting(self) -> None:
        """After a cancel-all or a reconnect nothing of ours rests: the single-order ladders start
        empty (the next ladder is inserted from scratch)."""
        for ladder in self.ladders.values():
            ladder.clear()

    def resend_group(self, product: str) -> None:
        """A refilled protection group: send the newest ladder of each of its instruments again."""
        for inst in self.instruments:
            if inst.product == product and inst.id in self.last_sent:
                self.desired.setdefault(inst.id, self.last_sent[inst.id])
