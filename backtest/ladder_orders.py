"""From the desired ladder to order actions, as the gateway would send them.

Mass-quote mode (gateway.mass_quote, Thalex's mass_quote): a level re-sent with the same price
and amount is left alone and keeps its priority; any other change is a new order at the back of
the queue (the old one cancelled). Insert/amend mode: a level at an unchanged price that is not
larger keeps its order (an amend keeps priority on the exchange), otherwise unmatched old orders
are amended to the new levels in turn, then the rest inserted or cancelled.
Our view of each order: side, price, the amount we asked for, and whether a cancel is on its way.
"""
from __future__ import annotations

from backtest.events import ACTION_AMEND, ACTION_CANCEL, ACTION_INSERT


class OpenOrder:
    __slots__ = ("oid", "side", "price", "amount", "leaves", "cancelling")

    def __init__(self, oid, side, price, amount):
        self.oid, self.side, self.price, self.amount, self.leaves = oid, side, price, amount, amount
        self.cancelling = False


def diff(orders: dict, side: int, levels: list, next_oid, mass_quote: bool, tick: float) -> list:
    """Actions (action, oid, side, price, amount) taking ``orders`` (oid -> OpenOrder, updated in
    place) of ``side`` to ``levels`` [(price, amount)]; ``next_oid()`` gives a fresh id."""
    mine = [o for o in orders.values() if o.side == side and not o.cancelling]
    actions, wanted = [], []
    for price, amount in levels:
        same = next((o for o in mine if abs(o.price - price) < tick * 1e-6 and abs(o.amount - amount) < 1e-12), None)
        if same is not None:
            mine.remove(same)
        else:
            wanted.append((price, amount))
    if not mass_quote:
        for price, amount in list(wanted):
            if not mine:
                break
            o = mine.pop(0)
            o.price, o.amount = price, amount
            actions.append((ACTION_AMEND, o.oid, side, price, amount))
            wanted.remove((price, amount))
    for o in mine:
        o.cancelling = True
        actions.append((ACTION_CANCEL, o.oid, side, o.price, o.amount))
    for price, amount in wanted:
        oid = next_oid()
        orders[oid] = OpenOrder(oid, side, price, amount)
        actions.append((ACTION_INSERT, oid, side, price, amount))
    return actions
