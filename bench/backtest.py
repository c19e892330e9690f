"""Backtest throughput: events/s of a GLFT run over synthetic data, the compiled replay core
against its pure-Python twin, on the same events (read into memory first, so parsing is not
timed). hftbacktest 2.4.4 beside them is not wired in yet."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bench.result import Result


def add_arguments(parser) -> None:
    parser.add_argument("--backtest-hours", type=float, default=1.0, help="synthetic hours for the backtest suite")


def _events(hours: float):
    from backtest.data import open_data
    from backtest.synth import synthesize
    with tempfile.TemporaryDirectory() as d:
        synthesize(Path(d), hours=hours, seed=1)
        return [c.copy() for c in open_data(Path(d), 2_000_000)]


def _rate(chunks, twin: bool, interval_ms: float) -> float:
    from backtest.driver import Backtest
    from conf.load import load
    c = load(None, [f"backtest.requote_interval_ms={interval_ms}"])
    bt = Backtest(c, twin=twin, out=None)
    t = time.perf_counter()
    s = bt.run(iter(chunks))
    return s["events"] / (time.perf_counter() - t)


def run(args) -> list[Result]:
    hours = 0.05 if args.quick else args.backtest_hours
    chunks = _events(hours)
    out = []
    for interval in (100.0, 0.0):
        ours = _rate(chunks, False, interval)
        twin_chunks = chunks if hours <= 0.1 else chunks[:max(1, len(chunks) // 10)]
        base = _rate(twin_chunks, True, interval)
        out.append(Result(f"backtest GLFT, requote {interval:g} ms, {sum(map(len, chunks)):,} events",
                          ours, "events/s", "pure-Python exchange twin", base))
    return out
