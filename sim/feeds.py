"""Payloads of the public market-data channels (THALEX_API.md sections 3.2 and 4)."""
from __future__ import annotations

import time

from .engine import COLLAR_FRACTION
from .instruments import round8


class Feeds:
    """Builds Ticker, lwt, Index and book payloads from the engine and the market model."""

    def __init__(self, engine, market):
        self.engine, self.market = engine, market

    def _best(self, name: str, is_bid: bool):
        levels = self.engine.books[name].levels(is_bid, 1)
        if not levels:
            return None, None
        instr = self.engine.instruments[name]
        return instr.from_ticks(levels[0][0]), levels[0][1]

    def open_interest(self, name: str) -> float:
        return round8(sum(max(a.positions[name].position, 0.0) for a in self.engine.accounts.values()
                          if name in a.positions))

    def ticker(self, name: str) -> dict:
        """The Ticker object; ``mark_timestamp`` is the Unix time of the market step (float s)."""
        e, m = self.engine, self.market
        instr = e.instruments[name]
        bid, bid_amt = self._best(name, True)
        ask, ask_amt = self._best(name, False)
        mark = m.mark(name)
        first, last = e.first_price[name], e.last_price[name]
        t = {
            "best_bid_price": bid, "best_bid_amount": bid_amt,
            "best_ask_price": ask, "best_ask_amount": ask_amt,
            "last_price": last, "mark_price": mark, "mark_timestamp": m.mark_timestamp,
            "delta": 1.0, "index": m.index(instr.underlying), "forward": round8(m.fair(name)),
            "volume_24h": round8(e.volume[name]), "value_24h": round8(e.value[name]),
            # The spec: the price difference between the first and the last trade (null when
            # there was none); the local exchange counts from its start, not over 24 hours.
            "change_24h": round8(last - first) if first is not None and last is not None else None,
            "collar_low": instr.from_ticks(instr.to_ticks(mark * (1 - COLLAR_FRACTION))),
            "collar_high": instr.from_ticks(instr.to_ticks(mark * (1 + COLLAR_FRACTION))),
            "open_interest": self.open_interest(name),
        }
        if first is not None:      # the spec types them as numbers: absent until a trade
            t.update(low_price_24h=e.low[name], high_price_24h=e.high[name])
        if instr.type == "perpetual":
            rate = m.funding_rate(name)
            t.update(funding_rate=rate, funding_mark=m.funding_mark(name),
                     realised_funding_24h=0.0, average_funding_rate_24h=rate)
        return t

    def lwt(self, name: str) -> dict:
        d = {"m": self.market.mark(name)}
        for key, is_bid in (("b", True), ("a", False)):
            px, amt = self._best(name, is_bid)
            if px is not None:
                d[key] = [px, amt, amt]
        if self.engine.last_price[name] is not None:
            d["l"] = self.engine.last_price[name]
        return d

    def index(self, underlying: str) -> dict:
        return {"index_name": underlying, "price": self.market.index(underlying),
                "timestamp": self.market.mark_timestamp}

    def book_levels(self, name: str, grouping: float | None, depth: int | None) -> tuple[dict, dict]:
        """({price: amount} bids, {price: amount} asks), grouped into USD buckets if asked."""
        instr = self.engine.instruments[name]
        book = self.engine.books[name]
        out = []
        for is_bid in (True, False):
            side: dict[float, float] = {}
            for ticks, amount in book.levels(is_bid):
                px = instr.from_ticks(ticks)
                if grouping:
                    steps = px / grouping
                    px = round8((int(steps) if is_bid else -int(-steps // 1)) * grouping)
                if px not in side and depth is not None and len(side) >= depth:
                    break
                side[px] = round8(side.get(px, 0.0) + amount)
            out.append(side)
        return out[0], out[1]

    def public_book(self, name: str, depth: int = 5) -> dict:
        """public/book: at most 5 levels a side as [price, amount, outright_amount]."""
        bids, asks = self.book_levels(name, None, depth)
        out = {"bids": [[p, a, a] for p, a in bids.items()],
               "asks": [[p, a, a] for p, a in asks.items()], "time": time.time()}
        if self.engine.last_price[name] is not None:   # a number in the spec: absent, not null
            out["last"] = self.engine.last_price[name]
        return out


def book_changes(old: dict, new: dict) -> list[list]:
    """[[price, amount, outright_amount]] that turn level map ``old`` into ``new`` (0 = removed)."""
    changes = [[p, a, a] for p, a in new.items() if old.get(p) != a]
    changes += [[p, 0.0, 0.0] for p in old if p not in new]
    return changes
