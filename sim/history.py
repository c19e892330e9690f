"""The local exchange's own past: one-minute mark bars, and a market that has been running.

``MarkHistory`` records, at every market step, each instrument's mark into one-minute OHLC bars
(aligned to Unix minutes, like the spec's example) with the top of book at the start of each
minute and the perpetual funding paid per coin during it; ``public/mark_price_historical_data``
answers from them in the spec's shape (THALEX_API.md section 3; thalex-openapi.json): rows
``[start, open, high, low, close, funding_payment, tob]`` for a perpetual and ``[start, open,
high, low, close, tob]`` for a future, ``tob = [bid, bid size, ask, ask size]`` at the 1m
resolution (items null on an empty side) and null at the others, which aggregate the minutes
(5m ... 1w, aligned to multiples of their length since the Unix epoch). The bar in progress is
included, as the spec's ``to`` is exclusive and nothing says it is not. A week of minutes is kept.

``run_past(...)`` makes the exchange start as a real one would be found: it runs the market
(the very ``Market.step``, flow, liquidity and jumps) for ``seconds`` of simulated time ending
now, stamping every trade and bar with its simulated time, before anyone can connect. Its
``recent_trades`` and mark bars are then history with honest timestamps; the random path
continues from there.
"""
from __future__ import annotations

import math
import time
from collections import deque

RESOLUTIONS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "1d": 86400, "1w": 604800}
MINUTE = 60
KEPT_MINUTES = 7 * 24 * 60


class MarkHistory:
    def __init__(self, engine, market):
        self.engine, self.market = engine, market
        self.bars = {name: deque(maxlen=KEPT_MINUTES) for name in engine.instruments}

    def record(self, t_s: float) -> None:
        """After a market step at Unix time ``t_s``: each instrument's mark into its minute bar."""
        start = math.floor(t_s / MINUTE) * MINUTE
        for name, bars in self.bars.items():
            mark = self.market.mark(name)
            funding = self.market.funding_acc[name]
            if bars and bars[-1][0] == start:
                bar = bars[-1]
                bar[2], bar[3], bar[4], bar[6] = max(bar[2], mark), min(bar[3], mark), mark, funding
            else:
                # [start, o, h, l, c, funding at the start, funding now, top of book at the start]
                bars.append([start, mark, mark, mark, mark, funding, funding, self._top(name)])

    def _top(self, name: str) -> list:
        instr, book = self.engine.instruments[name], self.engine.books[name]
        out = []
        for is_bid in (True, False):
            levels = book.levels(is_bid, 1)
            out += [instr.from_ticks(levels[0][0]), levels[0][1]] if levels else [None, None]
        return out

    def rows(self, name: str, from_s: float, to_s: float, resolution: str) -> list[list]:
        """The spec's ``mark`` rows of the ``resolution`` intervals overlapping [from_s, to_s)."""
        length = RESOLUTIONS[resolution]
        perpetual = self.engine.instruments[name].type == "perpetual"
        groups: dict[int, list] = {}
        for bar in self.bars[name]:
            start = math.floor(bar[0] / length) * length
            if start >= to_s or start + length <= from_s:
                continue
            group = groups.get(start)
            if group is None:
                groups[start] = [start, *bar[1:]]
            else:
                group[2], group[3], group[4], group[6] = max(group[2], bar[2]), min(group[3], bar[3]), bar[4], bar[6]
        out = []
        for start in sorted(groups):
            _, o, h, low, c, funding_start, funding_end, tob = groups[start]
            row = [start, o, h, low, c]
            if perpetual:
                row.append(round(funding_end - funding_start, 8))
            row.append(list(tob) if length == MINUTE else None)
            out.append(row)
        return out


def run_past(engine, market, history: MarkHistory, seconds: float, step_s: float,
             now: float | None = None) -> int:
    """Run the market for ``seconds`` of simulated time ending at ``now`` (default: the wall
    clock), every ``step_s``; trades and bars carry their simulated times. Nobody is connected,
    so the engine's events are dropped. Returns the steps run."""
    if seconds <= 0:
        return 0
    end = time.time() if now is None else now
    t = [end - seconds]
    wall_clock = engine.clock
    engine.clock = lambda: t[0]
    market.start_time -= seconds          # a dated future's time to expiry counts from the past
    steps = int(seconds / step_s)
    try:
        for _ in range(steps):
            t[0] += step_s
            market.step(step_s)
            engine.drain_events()
            history.record(t[0])
    finally:
        engine.clock = wall_clock
    return steps
