"""One instrument's ladder kept with insert / amend / cancel, for accounts without mass quoting.

Each level of each side is one order (client_order_id chosen here). A new ladder is diffed
against the live one level by level: same price and amount -> nothing (queue priority kept);
different -> ``private/amend`` in place (priority kept by the exchange when only the amount
shrinks); a new level -> ``private/insert`` post-only; a level gone -> ``private/cancel``. Every
message takes a token from the matching-engine (or cancel) bucket; when the bucket is empty the
diff stops and :meth:`apply` returns False, and the caller retries with the newest ladder (the
diff restarts from what is live, so nothing is sent twice). Order updates from session.orders
(:meth:`on_order`) and error replies keep the live picture true: a filled, cancelled or rejected
order leaves its level empty.

Amends are volume-safe on Thalex: ``private/amend``'s amount is the order's new *original* amount,
so what rests afterwards is that amount minus what has already executed, and an amount at or below
the executed amount cancels the order. Each order therefore tracks both what executed (the sum of
its fills) and what rests; a level that should rest ``a`` is amended to ``executed + a``.
"""
from __future__ import annotations

import logging

from shm.records import MAX_LEVELS

log = logging.getLogger("gateway")
SIDES = (1, -1)


class LadderOrders:
    def __init__(self, instrument: str, limits, next_cid):
        self.instrument, self.limits, self.next_cid = instrument, limits, next_cid
        self.levels = {side: [None] * MAX_LEVELS for side in SIDES}   # side -> client_order_id per level
        # cid -> [side, level, price, resting amount, executed amount] (contracts)
        self.orders: dict[int, list] = {}

    def apply(self, client, q, label, now_ns: int) -> bool:
        """Move the live ladder towards the QuoteSet record ``q[0]``; False when out of tokens."""
        r = q[0]
        pull = r["type"] != 1
        for side, n_key, p_key, a_key in ((1, "n_bids", "bid_price", "bid_amount"),
                                          (-1, "n_asks", "ask_price", "ask_amount")):
            n = 0 if pull else int(r[n_key])
            prices, amounts = r[p_key].tolist(), r[a_key].tolist()
            for level in range(MAX_LEVELS):
                want = (prices[level], amounts[level]) if level < n else None
                if not self._level(client, side, level, want, label, now_ns):
                    return False
        return True

    def _level(self, client, side: int, level: int, want, label, now_ns: int) -> bool:
        cid = self.levels[side][level]
        if cid is None and want is None:
            return True
        if cid is not None and want is not None:
            order = self.orders[cid]
            if (order[2], order[3]) == want:
                return True
            if not self.limits.try_order(now_ns):
                return False
            order[2], order[3] = want
            # The new original amount: what executed plus what should rest from now on.
            client.amend(want[0], round(order[4] + want[1], 12), client_order_id=cid, wait=False,
                         callback=lambda result, error, cid=cid: self._failed(cid, error))
            return True
        if want is None:
            if not self.limits.try_cancel(now_ns):
                return False
            self._forget(cid)
            client.cancel(client_order_id=cid, wait=False, callback=lambda result, error: None)
            return True
        if not self.limits.try_order(now_ns):
            return False
        cid = self.next_cid()
        self.levels[side][level] = cid
        self.orders[cid] = [side, level, want[0], want[1], 0.0]
        client.insert("buy" if side > 0 else "sell", self.instrument, want[1], want[0], client_order_id=cid,
                      post_only=True, label=label, wait=False,
                      callback=lambda result, error, cid=cid: self._failed(cid, error))
        return True

    def _failed(self, cid: int, error) -> None:
        if error is not None:
            log.warning("%s: order %d refused (code %d): %s", self.instrument, cid, error.code, error)
            self._forget(cid)

    def _forget(self, cid: int) -> None:
        order = self.orders.pop(cid, None)
        if order is not None and self.levels[order[0]][order[1]] == cid:
            self.levels[order[0]][order[1]] = None

    def on_order(self, cid: int, remaining: float, closed: bool, filled: float = 0.0) -> None:
        """An order update: ``remaining`` rests, ``filled`` executed in this update (contracts);
        a closed order (filled out or cancelled) leaves its level empty."""
        order = self.orders.get(cid)
        if order is None:
            return
        if closed or remaining <= 0:
            self._forget(cid)
        else:
            order[3] = remaining
            order[4] += filled

    def clear(self) -> None:
        """Forget everything (after a cancel-all or a reconnect: nothing of ours is live)."""
        self.levels = {side: [None] * MAX_LEVELS for side in SIDES}
        self.orders.clear()
