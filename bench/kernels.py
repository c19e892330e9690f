"""``bin/mm-bench kernels``: each compiled kernel beside its pure-Python twin, same run, same inputs.

The headline is ``kernels.quote.per_call``: the quoter's entry point (QuoteEngine.quote, 10
levels a side, volatility/intensity/candle updates and the A/k refit included, one public trade
fed for every four ticks) per market record, called from Python as the quoter process calls it.
Each implementation replays the same pre-generated stream, so nothing but the kernel differs.
"""
from __future__ import annotations

import time

import numpy as np

import kernels
from bench.result import Result
from kernels.params import QuoteParams
from shm import records as R

TWIN = "pure-Python twin"


def _stream(n: int, seed: int = 1):
    """n distinct market records (as read from the md ring into a buffer) and trades."""
    rng = np.random.default_rng(seed)
    mids = 60_000.0 + np.cumsum(rng.normal(0, 2.0, n))
    recs = np.zeros(n, R.MD_DTYPE)
    half = rng.integers(1, 4, n)
    recs["type"], recs["seq"] = R.MD_TICKER, np.arange(n)
    recs["best_bid_price"] = np.round(mids) - half
    recs["best_ask_price"] = np.round(mids) + half
    recs["mark_price"] = mids
    recs["exchange_ts_ns"] = 1_700_000_000 * 10**9 + np.arange(n) * 50_000_000
    views = [recs[i:i + 1] for i in range(n)]
    sides = rng.choice([-1, 1], n)
    trades = [(float(m + s * rng.exponential(6.0)), float(rng.exponential(0.1)), int(s), float(t) * 1e-9)
              for m, s, t in zip(mids, sides, recs["exchange_ts_ns"])]
    return views, trades


def _time_quote(impl, views, trades, n: int) -> float:
    engine = impl.QuoteEngine(QuoteParams(intensity_min_arrivals=20), 1.0, 0.001, 0.001)
    out = np.zeros(1, R.QUOTE_DTYPE)
    quote, on_trade = engine.quote, engine.on_trade
    m = len(views)
    started = time.perf_counter_ns()
    for i in range(n):
        j = i % m
        if j % 4 == 0:
            on_trade(*trades[j])
        quote(views[j], 0.01, 0.0, 0.0, out)
    return (time.perf_counter_ns() - started) / n


def _time_calls(fn, args_list, n: int) -> float:
    m = len(args_list)
    started = time.perf_counter_ns()
    for i in range(n):
        fn(*args_list[i % m])
    return (time.perf_counter_ns() - started) / n


def _kernel_cases(impl):
    """(name, callable, argument tuples) for each kernel on its own."""
    rng = np.random.default_rng(2)
    mids = [float(x) for x in 60_000 + np.cumsum(rng.normal(0, 2, 1000))]
    vol = impl.EwmaVariance(30.0, 5.0, 0.5, 200.0)
    intensity = impl.IntensityEstimator(np.arange(10.0), 600.0, 5.0, 1.0, 0.1)
    intensity.on_mid(60_000.0, 0.0)
    candles = impl.VolumeCandles(1.0, 60.0)
    bufs = [np.zeros(R.MAX_LEVELS) for _ in range(4)]
    spec = dict(tick=1.0, amount_tick=0.001, min_amount=0.001, levels=R.MAX_LEVELS, spacing_ticks=1.0,
                min_spread=2.0, max_spread=2000.0, fee_pad=6.0, base_size=0.001,
                multipliers=(1, 1, 1.5, 1.5, 2, 2, 2.5, 2.5, 3, 3), eta=1.0, max_position=0.1)

    def ladder(b0, a0, q):
        return impl.build_ladder(b0, a0, q, 0.0, 0.0, b0 - 5.0, a0 + 5.0, **spec, bid_price=bufs[0],
                                 bid_amount=bufs[1], ask_price=bufs[2], ask_amount=bufs[3])

    def glft(fair, q):
        c1, c2 = impl.glft_c1(0.05, 0.1, 0.001), impl.glft_c2(0.05, 0.05, 1.0, 0.1, 0.001)
        return impl.glft_quotes(fair, q, 5.0, c1, c2, 0.001)

    return [
        ("kernels.as_quotes.per_call", impl.as_quotes, [(m, 0.01, 0.05, 5.0, 60.0, 0.1) for m in mids]),
        ("kernels.glft.per_call", glft, [(m, 0.01) for m in mids]),
        ("kernels.volatility.update", vol.update, [(m, i * 0.05) for i, m in enumerate(mids)]),
        ("kernels.intensity.on_trade", intensity.on_trade,
         [(60_000.0 + (i % 9), 1, i * 0.05) for i in range(1000)]),
        ("kernels.candles.on_trade", candles.on_trade, [(m, 0.1, 1, i * 0.05) for i, m in enumerate(mids)]),
        ("kernels.ladder.build_10x2", ladder, [(m - 8.0, m + 8.0, 0.02) for m in mids]),
    ]


def run(args) -> list[Result]:
    quick = getattr(args, "quick", False)
    n_fast, n_slow = (20_000, 1_000) if quick else (400_000, 20_000)
    views, trades = _stream(4000)
    c, p = kernels.implementation("cython"), kernels.implementation("python")
    results = []
    ours = min(_time_quote(c, views, trades, n_fast) for _ in range(3))
    twin = min(_time_quote(p, views, trades, n_slow) for _ in range(2))
    results.append(Result("kernels.quote.per_call", ours, "ns", TWIN, twin))
    for (name, fn_c, cases), (_, fn_p, _) in zip(_kernel_cases(c), _kernel_cases(p)):
        ours = min(_time_calls(fn_c, cases, n_fast) for _ in range(3))
        twin = min(_time_calls(fn_p, cases, n_slow) for _ in range(2))
        results.append(Result(name, ours, "ns", TWIN, twin))
    return results
