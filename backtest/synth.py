"""Synthetic market data with known truth, in the CSV-pair format (backtest/data.py).

Every ``dt_s`` the mid takes a Gaussian step of ``sigma * sqrt(dt_s)`` (USD, sigma in
USD/sqrt(s)); the book is ``levels`` levels a side, one tick apart, the best bid the tick at or
below mid - tick/2 and the best ask one tick above it, sizes drawn once per level and redrawn
with probability ``resize_p`` per step (only changed levels are written). On each side, trades
arrive as a Poisson process of rate ``A`` per second with a distance from the mid delta ~
Exponential(k), so trades reach beyond delta at A exp(-k delta) per second: the intensity the
quoter estimates. A buy prints at the mid + delta rounded up to the tick (a sell: down), at a
uniform time within the step, with a size from an exponential of mean ``trade_size``.
Seeded: the same arguments write byte-identical files.
"""
from __future__ import annotations

import gzip
import io
import math
from pathlib import Path

import numpy as np


def synthesize(out: Path, hours: float = 1.0, seed: int = 1, sigma: float = 5.0, a: float = 1.0,
               k: float = 0.1, tick: float = 1.0, lot: float = 0.001, mid0: float = 100_000.0,
               levels: int = 20, dt_s: float = 0.1, level_size: float = 0.5, trade_size: float = 0.05,
               resize_p: float = 0.05, t0_ns: int = 1_700_000_000_000_000_000, compress: bool = False) -> dict:
    """Write depth.csv and trades.csv (``.gz`` when ``compress``) into ``out``; returns the truth."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    steps = int(round(hours * 3600.0 / dt_s))
    dt_ns = int(round(dt_s * 1e9))
    def opener(p):
        if not compress:
            return open(p, "w", newline="")
        # mtime=0 and no file name in the header: the same arguments give the same bytes.
        raw = gzip.GzipFile(filename="", mode="wb", fileobj=open(p.with_suffix(".csv.gz"), "wb"), mtime=0)
        return io.TextIOWrapper(raw, newline="")
    decimals = max(0, -int(math.floor(math.log10(tick)))) if tick < 1 else 0
    lot_decimals = max(0, -int(math.floor(math.log10(lot))))
    fmt_p = f"{{:.{decimals}f}}"
    fmt_q = f"{{:.{lot_decimals}f}}"
    mid = mid0
    book = {1: {}, -1: {}}            # side -> {tick: qty}
    n_depth = n_trades = 0
    with opener(out / "depth.csv") as fd, opener(out / "trades.csv") as ft:
        fd.write("ts_ns,side,price,qty\n")
        ft.write("ts_ns,side,price,size\n")
        moves = rng.standard_normal(steps) * sigma * math.sqrt(dt_s)
        for i in range(steps):
            ts = t0_ns + i * dt_ns
            mid += float(moves[i])
            best_bid = math.floor((mid - 0.5 * tick) / tick)
            want = {1: {best_bid - j for j in range(levels)}, -1: {best_bid + 1 + j for j in range(levels)}}
            rows = []
            for side, name in ((1, "bid"), (-1, "ask")):
                have = book[side]
                for t in sorted(set(have) - want[side]):
                    del have[t]
                    rows.append((name, t, 0.0))
                for t in sorted(want[side]):
                    if t not in have or rng.random() < resize_p:
                        q = max(lot, round(float(rng.exponential(level_size)) / lot) * lot)
                        have[t] = q
                        rows.append((name, t, q))
            for name, t, q in rows:
                fd.write(f"{ts},{name},{fmt_p.format(t * tick)},{fmt_q.format(q)}\n")
            n_depth += len(rows)
            trades = []
            for side in (1, -1):
                for _ in range(int(rng.poisson(a * dt_s))):
                    delta = float(rng.exponential(1.0 / k))
                    at = ts + int(rng.random() * dt_ns)
                    price = math.ceil((mid + delta) / tick) * tick if side == 1 else math.floor((mid - delta) / tick) * tick
                    size = max(lot, round(float(rng.exponential(trade_size)) / lot) * lot)
                    trades.append((at, "buy" if side == 1 else "sell", price, size))
            for at, name, price, size in sorted(trades):
                ft.write(f"{at},{name},{fmt_p.format(price)},{fmt_q.format(size)}\n")
            n_trades += len(trades)
    return {"sigma": sigma, "A": a, "k": k, "tick": tick, "hours": hours, "seed": seed,
            "depth_rows": n_depth, "trades": n_trades}
