"""Risk's exits, as the gateway sends them: flatten and take-profit orders.

- A FLATTEN record becomes a reduce-only market order for its amount (rounded to the amount
  tick); flattens go before anything else the connection sends.
- A TP record is the take-profit risk wants resting for the instrument (one reduce-only post-only
  limit, or none): the resting one is cancelled and the new one inserted. It is placed again
  after every reconnect or cancel-all that removed it (``forget_resting``).
A refused exit becomes an EXEC_REJECT (executions.py).
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("gateway")


class Exits:
    def __init__(self, instruments, limits, new_cid, reject):
        """
        instruments  our Instrument list (id = index)
        limits       ThalexLimits shared by everything the connection sends
        new_cid      () -> a fresh client_order_id (shared with the single-order ladders)
        reject       Executions.reject(iid, code, text) for refused exits
        """
        self.instruments, self.limits, self.new_cid, self.reject = instruments, limits, new_cid, reject
        self.flattens: list[np.ndarray] = []
        self.tp_desired: dict[int, np.ndarray] = {}   # instrument -> the take-profit risk wants
        self.tp_live: dict[int, int] = {}             # instrument -> client_order_id resting
        self.tp_dirty: set[int] = set()

    def want_flatten(self, q: np.ndarray) -> None:
        self.flattens.append(q.copy())

    def want_take_profit(self, iid: int, q: np.ndarray) -> None:
        self.tp_desired[iid] = q.copy()
        self.tp_dirty.add(iid)

    @property
    def pending(self) -> bool:
        """Something to send: a flatten, or a take-profit to replace."""
        return bool(self.flattens or self.tp_dirty)

    def send_ready(self, client, now: int) -> None:
        """Flattens first, then take-profits, while the token bucket allows (``now``: monotonic ns)."""
        while self.flattens and self.limits.try_order(now):
            self._send_flatten(client, self.flattens.pop(0))
        while self.tp_dirty and self.limits.try_order(now):
            self._replace_tp(client, self.tp_dirty.pop())

    def forget_resting(self, replace: bool = True) -> None:
        """Nothing of ours rests any more (cancel-all, reconnect); ``replace``: place the wanted
        take-profits again."""
        self.tp_live.clear()
        if replace:
            self.tp_dirty.update(self.tp_desired)

    def _replace_tp(self, client, iid: int) -> None:
        """Cancel the instrument's take-profit order (if any) and insert the desired one (if any)."""
        inst, q = self.instruments[iid], self.tp_desired[iid]
        old = self.tp_live.pop(iid, None)
        if old is not None:
            client.cancel(client_order_id=old, wait=False, callback=lambda result, error: None)
        r = q[0]
        sell = int(r["n_asks"]) > 0
        if not (sell or int(r["n_bids"]) > 0):
            return
        price = float(r["ask_price"][0] if sell else r["bid_price"][0])
        amount = float(r["ask_amount"][0] if sell else r["bid_amount"][0])
        cid = self.tp_live[iid] = self.new_cid()
        log.info("%s: take-profit %s %.6f @ %.2f reduce-only", inst.name, "sell" if sell else "buy", amount, price)
        client.insert("sell" if sell else "buy", inst.name, amount, price, client_order_id=cid,
                      reduce_only=True, post_only=True, label="tp", wait=False,
                      callback=lambda result, error: error and self.reject(iid, error.code, f"take-profit: {error}"))

    def _send_flatten(self, client, q: np.ndarray) -> None:
        iid = int(q["instrument_id"][0])
        inst = self.instruments[iid]
        sell = int(q["n_asks"][0]) > 0
        amount = float(q["ask_amount"][0][0] if sell else q["bid_amount"][0][0])
        amount = round(amount / inst.amount_tick) * inst.amount_tick
        log.warning("%s: flatten: market %s %.6f reduce-only", inst.name, "sell" if sell else "buy", amount)
        client.insert("sell" if sell else "buy", inst.name, amount, order_type="market",
                      reduce_only=True, wait=False,
                      callback=lambda result, error: error and self.reject(iid, error.code, f"flatten: {error}"))
