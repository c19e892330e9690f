"""One instrument's limit order book: price levels in integer ticks, FIFO inside a level.

The book only stores and orders resting orders; the matching loop (who trades with whom, fills,
accounting) lives in sim/engine.py and walks the book through ``best_maker``.
"""
from __future__ import annotations

import bisect

from .orders import Order


class Book:
    """Resting orders of one instrument with price-time priority."""

    def __init__(self, instrument):
        self.instrument = instrument
        self._levels = {True: {}, False: {}}   # is_bid -> {ticks: [orders, oldest first]}
        self._prices = {True: [], False: []}   # is_bid -> sorted ascending ticks

    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its level (its ``ticks`` and ``seq`` already set)."""
        side = order.is_buy
        level = self._levels[side].get(order.ticks)
        if level is None:
            self._levels[side][order.ticks] = [order]
            bisect.insort(self._prices[side], order.ticks)
        else:
            level.append(order)

    def remove(self, order: Order) -> bool:
        """Take ``order`` out of the book; False if it was not resting."""
        side = order.is_buy
        level = self._levels[side].get(order.ticks)
        if not level or order not in level:
            return False
        level.remove(order)
        if not level:
            del self._levels[side][order.ticks]
            prices = self._prices[side]
            prices.pop(bisect.bisect_left(prices, order.ticks))
        return True

    def best(self, is_bid: bool) -> int | None:
        """Best price in ticks of one side, or None when empty."""
        prices = self._prices[is_bid]
        if not prices:
            return None
        return prices[-1] if is_bid else prices[0]

    def best_maker(self, taker_is_buy: bool, limit_ticks: int | None) -> Order | None:
        """The oldest order at the best opposite price if it crosses ``limit_ticks`` (None = any)."""
        maker_side = not taker_is_buy
        best = self.best(maker_side)
        if best is None:
            return None
        if limit_ticks is not None:
            if taker_is_buy and best > limit_ticks:
                return None
            if not taker_is_buy and best < limit_ticks:
                return None
        return self._levels[maker_side][best][0]

    def levels(self, is_bid: bool, depth: int | None = None) -> list[tuple[int, float]]:
        """[(ticks, total remaining coins)] best first, at most ``depth`` levels."""
        prices = self._prices[is_bid]
        ordered = reversed(prices) if is_bid else iter(prices)
        out = []
        for ticks in ordered:
            if depth is not None and len(out) >= depth:
                break
            out.append((ticks, round(sum(o.remaining for o in self._levels[is_bid][ticks]), 8)))
        return out

    def orders(self, is_bid: bool):
        """Every resting order of one side (any order)."""
        for level in self._levels[is_bid].values():
            yield from level

    def amount_within(self, taker_is_buy: bool, limit_ticks: int) -> float:
        """Coins resting on the opposite side at prices that ``limit_ticks`` would trade with."""
        total = 0.0
        for ticks, amount in self.levels(not taker_is_buy):
            if (taker_is_buy and ticks > limit_ticks) or (not taker_is_buy and ticks < limit_ticks):
                break
            total += amount
        return total

    def position_in_level(self, order: Order) -> int:
        """0-based queue position of a resting order inside its level (-1 if not resting)."""
        level = self._levels[order.is_buy].get(order.ticks, [])
        return level.index(order) if order in level else -1
