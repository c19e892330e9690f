"""Seeding a QuoteEngine's estimators from the exchange's history (procs/quoter_history.py).

History warms the estimators with its own timestamps; it is never counted as arrivals of the
present.

sigma, from the 1m mark bars: a Garman-Klass variance per complete bar,
    v = 0.5 (high - low)^2 - (2 ln 2 - 1)(close - open)^2   (USD^2 per bar of 60 s),
seven times as informative as a close-to-close return. Bars whose v exceeds TRIM x the median
hold a jump (the fast-cancel guard's business, not diffusion) and are left out; the rest are
averaged and divided by the bar length. On Brownian bars the trim costs under 1 %; discretely
sampled extremes understate the range, by about 4 % of sigma for a mark sampled ten times a
second and about 12 % for once a second (measured on simulated bars). Fewer than MIN_BARS usable
bars: no seed, the prior stands. The EWMA then starts from it (EwmaVariance.seed) and live
mids take over at its half-life.

A and k, from the trade snapshot: arrivals need the mid they are measured from, and public
trades carry none. A market order takes the best level first, so the shallowest print of a sweep
(the prints of one time and side) is the best ask (a buy) or bid (a sell) of that moment; the
half-spread h is half the median gap between the best ask and best bid of sweeps on opposite
sides within PAIR_WINDOW_S, and the mid at a sweep is its best price -/+ h. Each sweep goes to
the intensity estimator at its own time: the mid first, then its prints. Exposure starts at the
first sweep (which sets the clock and is not counted) and ends when the snapshot was taken (the
snapshot holds every trade up to then, so the quiet time after the last one is exposure too);
then the mid is forgotten, so the time until the first live record (trades nobody watched) is
not. The estimator refits once: with fewer than its min_arrivals the prior stands, as live.

Candles: every trade, at its own time; a candle whose time is up closes at the snapshot time.

Live trades that were already in the snapshot (the feed publishes from before the snapshot was
taken when the quoter restarts) are dropped by TradeDedup, which knows each history trade by its
whole row (time ns, price, amount, side, instrument): Thalex's public trades have no trade id.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BAR_S = 60.0
MIN_BARS = 5
TRIM = 4.0                  # x the median bar variance: beyond it a bar holds a jump
GK = 2.0 * math.log(2.0) - 1.0
PAIR_WINDOW_S = 2.0         # a buy and a sell sweep this close show one spread


def sigma_from_bars(bars: np.ndarray, now_s: float, bar_s: float = BAR_S) -> tuple[float, int, int]:
    """(sigma USD/sqrt(s) or NaN, bars used, bars left out as jumps) from (n, 5) bars
    (start_s, open, high, low, close); only bars complete at ``now_s`` count."""
    bars = np.asarray(bars, dtype=np.float64).reshape(-1, 5)
    done = bars[bars[:, 0] + bar_s <= now_s + 1e-9]
    if len(done) < MIN_BARS:
        return math.nan, 0, 0
    o, h, low, c = done[:, 1], done[:, 2], done[:, 3], done[:, 4]
    v = 0.5 * (h - low) ** 2 - GK * (c - o) ** 2
    median = float(np.median(v))
    keep = v <= TRIM * median if median > 0 else np.ones(len(v), bool)
    if keep.sum() < MIN_BARS:
        return math.nan, 0, int((~keep).sum())
    return math.sqrt(float(np.mean(v[keep])) / bar_s), int(keep.sum()), int((~keep).sum())


@dataclass
class Sweep:
    t_s: float
    side: int
    best: float            # USD: the level the sweep started at
    prices: list


def sweeps_of(trades) -> list[Sweep]:
    """Consecutive prints of one time and one side (TRADE_DTYPE records, oldest first)."""
    out: list[Sweep] = []
    for tr in trades:
        side = int(tr["side"])
        if side == 0:
            continue
        t, price = int(tr["exchange_ts_ns"]) * 1e-9, float(tr["price"])
        if out and out[-1].side == side and out[-1].t_s == t:
            s = out[-1]
            s.prices.append(price)
            s.best = min(s.best, price) if side > 0 else max(s.best, price)
        else:
            out.append(Sweep(t, side, price, [price]))
    return out


def half_spread(sweeps: list[Sweep], tick: float) -> float:
    """Half the median gap between nearby best-ask and best-bid sweeps (USD, >= tick / 2); NaN
    when no buy and sell sweep came within PAIR_WINDOW_S of each other."""
    gaps, last = [], {1: None, -1: None}
    for s in sweeps:
        other = last[-s.side]
        if other is not None and s.t_s - other.t_s <= PAIR_WINDOW_S:
            gaps.append(s.best - other.best if s.side > 0 else other.best - s.best)
        last[s.side] = s
    if not gaps:
        return math.nan
    return max(0.5 * float(np.median(gaps)), 0.5 * tick)


@dataclass
class SeedReport:
    sigma: float = math.nan       # seeded sigma, NaN when the bars were not enough
    bars_used: int = 0
    bars_jumps: int = 0
    trades: int = 0
    arrivals: int = 0             # counted by the intensity estimator
    fitted: bool = False          # A, k fitted from history (else the prior stands)
    half_spread: float = math.nan

    def text(self, engine) -> str:
        sigma = (f"sigma {self.sigma:.3g} USD/sqrt(s) from {self.bars_used} 1m bars "
                 f"({self.bars_jumps} with jumps left out)" if math.isfinite(self.sigma)
                 else f"sigma: prior ({self.bars_used} usable bars)")
        ak = (f"A {engine.intensity.a:.3g}/s k {engine.intensity.k:.3g}/USD from {self.arrivals} arrivals in "
              f"{self.trades} trades" if self.fitted else
              f"A, k: prior ({self.arrivals} arrivals in {self.trades} trades)")
        return f"{sigma}; {ak}"


def seed_engine(engine, trades, bars, snapshot_s: float, tick: float) -> SeedReport:
    """Warm ``engine``'s volatility, intensity and candles from history (module doc)."""
    report = SeedReport(trades=len(trades))
    if bars is not None:
        report.sigma, report.bars_used, report.bars_jumps = sigma_from_bars(bars, snapshot_s)
        if math.isfinite(report.sigma):
            engine.vol.seed(report.sigma)
    if len(trades):
        for tr in trades:
            engine.candles.on_trade(float(tr["price"]), float(tr["amount"]), int(tr["side"]),
                                    int(tr["exchange_ts_ns"]) * 1e-9)
        engine.candles.on_time(snapshot_s)
        _intensity_from_sweeps(engine.intensity, sweeps_of(trades), snapshot_s, tick, report)
    return report


def _intensity_from_sweeps(est, sweeps, snapshot_s, tick, report) -> None:
    h = half_spread(sweeps, tick)
    report.half_spread = h
    if not math.isfinite(h) or len(sweeps) < 2:
        return
    before = est.arrivals
    first = sweeps[0]
    est.on_mid(first.best - first.side * h, first.t_s)      # exposure starts; this sweep is not counted
    for s in sweeps[1:]:
        est.on_mid(s.best - s.side * h, s.t_s)
        for price in s.prices:
            est.on_trade(price, s.side, s.t_s)
    est.on_mid(math.nan, max(snapshot_s, sweeps[-1].t_s))   # quiet until the snapshot: exposure
    est.forget_mid()                                          # after it: unwatched, not exposure
    report.arrivals = est.arrivals - before
    report.fitted = bool(est.refit())


class TradeDedup:
    """Drops live trades that the history already fed in (same row), until live trades are
    newer than the newest history trade; then it is done and costs nothing."""

    def __init__(self, history_trades: dict):
        self.keys = set()
        self.newest_ns = {}
        for iid, trades in history_trades.items():
            for tr in trades:
                self.keys.add(key_of(tr))
            if len(trades):
                self.newest_ns[iid] = int(trades["exchange_ts_ns"].max())
        self.dropped = 0

    @property
    def done(self) -> bool:
        return not self.newest_ns

    def seen(self, trade) -> bool:
        """True when ``trade`` (a TRADE_DTYPE record) was in the history: skip it."""
        iid = int(trade["instrument_id"])
        newest = self.newest_ns.get(iid)
        if newest is None:
            return False
        if int(trade["exchange_ts_ns"]) > newest:
            del self.newest_ns[iid]           # live has moved past the history of this instrument
            return False
        if key_of(trade) in self.keys:
            self.dropped += 1
            return True
        return False


def key_of(trade) -> tuple:
    return (int(trade["instrument_id"]), int(trade["exchange_ts_ns"]), float(trade["price"]),
            float(trade["amount"]), int(trade["side"]))
