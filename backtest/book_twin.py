"""Pure-Python twin of backtest/book.pxd: one L2 book in ticks with hftbacktest 2.4.4's
best-price tracking (HashMapMarketDepth): a crossed update hides the stale levels it crosses,
a removed best is replaced by the next level inside [low_bid, best) or (best, high_ask], a size
that rounds to zero lots removes its level."""
from __future__ import annotations

import math

NEG, POS = -2**63, 2**63 - 1      # i64::MIN (no bid), i64::MAX (no ask)


def c_round(x: float) -> float:
    """C's round() and Rust's f64::round: half away from zero."""
    if not math.isfinite(x):
        return x
    a = abs(x)
    r = math.floor(a)
    return math.copysign(r + 1.0 if a - r >= 0.5 else r, x)


def to_tick(price: float, tick: float) -> int:
    x = c_round(price / tick)
    return 0 if math.isnan(x) else int(x)


def _below(levels: dict, start: int, end: int) -> int:
    """The highest level in [end, start), NEG if none."""
    found = [k for k in levels if end <= k < start]
    return max(found) if found else NEG


def _above(levels: dict, start: int, end: int) -> int:
    """The lowest level in (start, end], POS if none."""
    found = [k for k in levels if start < k <= end]
    return min(found) if found else POS


class Book:
    def __init__(self, tick: float, lot: float):
        self.tick, self.lot = tick, lot
        self.bids: dict[int, float] = {}
        self.asks: dict[int, float] = {}
        self.best_bid, self.best_ask, self.low_bid, self.high_ask = NEG, POS, POS, NEG

    def _keep(self, qty: float) -> bool:
        lots = c_round(qty / self.lot)
        return not math.isnan(lots) and lots >= 1.0

    def update_bid(self, tick: int, qty: float) -> float:
        """A bid level's new absolute size; returns its previous size."""
        keep = self._keep(qty)
        prev = self.bids.pop(tick, 0.0)
        if keep:
            self.bids[tick] = qty
            if tick > self.best_bid:
                self.best_bid = tick
                if self.best_bid >= self.best_ask:
                    self.best_ask = _above(self.asks, self.best_bid, self.high_ask)
            self.low_bid = min(self.low_bid, tick)
        elif tick == self.best_bid:
            self.best_bid = _below(self.bids, self.best_bid, self.low_bid)
            if self.best_bid == NEG:
                self.low_bid = POS
        return prev

    def update_ask(self, tick: int, qty: float) -> float:
        """An ask level's new absolute size; returns its previous size."""
        keep = self._keep(qty)
        prev = self.asks.pop(tick, 0.0)
        if keep:
            self.asks[tick] = qty
            if tick < self.best_ask:
                self.best_ask = tick
                if self.best_bid >= self.best_ask:
                    self.best_bid = _below(self.bids, self.best_ask, self.low_bid)
            self.high_ask = max(self.high_ask, tick)
        elif tick == self.best_ask:
            self.best_ask = _above(self.asks, self.best_ask, self.high_ask)
            if self.best_ask == POS:
                self.high_ask = NEG
        return prev

    def clear(self, side: int, upto_price: float) -> None:
        """side 1: bids from upto_price up to the best (all when not finite); -1: asks from the
        best up to upto_price; 0: both sides."""
        if side == 1:
            if math.isfinite(upto_price):
                upto = to_tick(upto_price, self.tick)
                if self.best_bid != NEG:
                    for k in [k for k in self.bids if upto <= k <= self.best_bid]:
                        del self.bids[k]
                self.best_bid = _below(self.bids, upto - 1, self.low_bid)
            else:
                self.bids.clear()
                self.best_bid = NEG
            if self.best_bid == NEG:
                self.low_bid = POS
        elif side == -1:
            if math.isfinite(upto_price):
                upto = to_tick(upto_price, self.tick)
                if self.best_ask != POS:
                    for k in [k for k in self.asks if self.best_ask <= k <= upto]:
                        del self.asks[k]
                self.best_ask = _above(self.asks, upto + 1, self.high_ask)
            else:
                self.asks.clear()
                self.best_ask = POS
            if self.best_ask == POS:
                self.high_ask = NEG
        else:
            self.bids.clear()
            self.asks.clear()
            self.best_bid, self.best_ask, self.low_bid, self.high_ask = NEG, POS, POS, NEG
