"""From the desired ladder to order actions, as the gateway would send them, and our picture of
our orders as the answers reach us. Python twin of the order table in backtest/core.pyx.

Mass-quote mode (gateway.mass_quote, Thalex's mass_quote): a level re-sent with the same price
and amount is left alone and keeps its priority; any other change is a new order at the back of
the queue (the old one cancelled). Insert/amend mode: unmatched old orders are amended to the new
levels in turn, then the rest cancelled and what is still missing inserted.
One request per order at a time: an order with an insert, amend or cancel on its way is neither
amended nor cancelled until that answer reaches us; the ladder is then applied again (the
reference engine's local model refuses such a request, so every action we log can be replayed
through it). Our view of each order: side, price, the amount we asked for, what rests, requests
unanswered, and whether a cancel is on its way.
"""
from __future__ import annotations

import math

import numpy as np

from backtest.events import (ACTION_AMEND, ACTION_CANCEL, ACTION_INSERT, MAX_ORDERS, REJECT_POST_ONLY,
                             REPORT_AMENDED, REPORT_CANCELLED, REPORT_FILL, REPORT_REJECT, ROW_NAMES)


class OpenOrder:
    __slots__ = ("oid", "side", "price", "amount", "leaves", "pending", "cancelling")

    def __init__(self, oid, side, price, amount):
        self.oid, self.side, self.price, self.amount, self.leaves = oid, side, price, amount, amount
        self.pending, self.cancelling = 1, False


class OrderTable:
    """Our orders (insertion order), the ladder we want, the counts and the orders.csv rows.

    ``send(action, oid, side, price, amount)`` puts an action on its way to the exchange.
    """

    def __init__(self, tick: float, mass_quote: bool, send, first_oid: int = 101):
        self.tick, self.mass_quote, self.send = tick, mass_quote, send
        self.mine: list[OpenOrder] = []
        self.want = {1: [], -1: []}
        self.blocked = False
        self.next_oid = first_oid
        self.counts = {"insert": 0, "amend": 0, "cancel": 0, "reject": 0, "post_only_rejects": 0}
        self.log_rows = False
        self.rows: list[tuple] = []

    def apply(self, bids: list, asks: list, now: int) -> None:
        """Move towards the ladder ``bids``/``asks`` [(price, amount)] at ``now`` (ns)."""
        self.want = {1: bids, -1: asks}
        self._apply(now)

    def _apply(self, now: int) -> None:
        self.blocked = False
        self._diff(1, now)
        self._diff(-1, now)

    def _action(self, now, action, o, price, amount):
        self.send(action, o.oid, o.side, price, amount)
        self.counts[ROW_NAMES[action]] += 1
        self.row(now, action, o.side, o.oid, price, amount, 0)

    def _diff(self, side: int, now: int) -> None:
        levels = self.want[side]
        used = [o.side != side or o.cancelling for o in self.mine]
        matched = []
        for price, amount in levels:
            k = next((k for k, o in enumerate(self.mine) if not used[k] and abs(o.price - price) < self.tick * 1e-6
                      and abs(o.amount - amount) < 1e-12), None)
            if k is not None:
                used[k] = True
            matched.append(k is not None)
        if not self.mass_quote:
            k = 0
            for i, (price, amount) in enumerate(levels):
                if matched[i]:
                    continue
                while k < len(self.mine) and (used[k] or self.mine[k].pending):
                    k += 1
                if k == len(self.mine):
                    break
                o = self.mine[k]
                used[k] = matched[i] = True
                o.price, o.amount = price, amount
                o.pending += 1
                self._action(now, ACTION_AMEND, o, price, amount)
        for k, o in enumerate(self.mine):
            if used[k]:
                continue
            if o.pending:
                self.blocked = True          # cancelled once its answer is in
                continue
            o.cancelling, o.pending = True, o.pending + 1
            self._action(now, ACTION_CANCEL, o, o.price, o.amount)
        for i, (price, amount) in enumerate(levels):
            if matched[i]:
                continue
            if len(self.mine) == MAX_ORDERS:
                raise RuntimeError(f"backtest: more than {MAX_ORDERS} orders of ours at once")
            o = OpenOrder(self.next_oid, side, price, amount)
            self.next_oid += 1
            self.mine.append(o)
            self._action(now, ACTION_INSERT, o, price, amount)

    def deliver(self, r: tuple, now: int) -> None:
        """An answer (REPORT_DTYPE field order) reaches us at ``now``."""
        exch_ts, local_ts, oid, price, amount, leaves, fee, kind, side, maker, reason = r
        k = next((k for k, o in enumerate(self.mine) if o.oid == oid), None)
        if kind == REPORT_FILL:
            if k is not None:
                self.mine[k].leaves = leaves
                if leaves <= 0:
                    del self.mine[k]
        elif kind in (REPORT_CANCELLED, REPORT_REJECT):
            if k is not None:
                del self.mine[k]
            if kind == REPORT_REJECT:
                self.counts["reject"] += 1
                self.counts["post_only_rejects"] += reason == REJECT_POST_ONLY
        elif k is not None:
            self.mine[k].pending -= 1
            if kind == REPORT_AMENDED:
                self.mine[k].leaves = amount
        self.row(local_ts, kind + 10, side, oid, price, amount, reason)
        if self.blocked:
            self._apply(now)

    def open_amounts(self) -> tuple[float, float]:
        b = a = 0.0
        for o in self.mine:
            if o.side == 1:
                b += o.leaves
            else:
                a += o.leaves
        return b, a

    def row(self, ts, event, side, oid, price, amount, reason) -> None:
        if self.log_rows:
            self.rows.append((ts, event, side, oid, price, amount, reason))

    def take_rows(self) -> bytes:
        out = "".join(f"{ts},{ROW_NAMES[event]},0,{side},{oid},{fmt_num(price)},{fmt_num(amount)},{reason}\n"
                      for ts, event, side, oid, price, amount, reason in self.rows)
        self.rows = []
        return out.encode()


def fmt_num(v: float) -> str:
    """As the compiled core writes numbers: shortest round-trip digits, positional within
    [1e-6, 1e15), else as repr()."""
    a = abs(v)
    if math.isfinite(v) and (a == 0 or 1e-6 <= a < 1e15):
        return np.format_float_positional(v, trim="-")
    return repr(float(v))
