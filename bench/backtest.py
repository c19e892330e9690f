"""Backtest throughput: events/s of a GLFT run over synthetic data (1 hour: ~255,000 events), our
compiled replay core beside its pure-Python twin and beside hftbacktest 2.4.4 running a GLFT
quoter of the same shape on the same events in the same run (bench/_hftbacktest_glft.py, in its
own environment, set up on first use; its numba compile time is reported apart, not counted).

The events are read into memory first (parsing is not timed); "ours" runs with no run directory
(what the engine costs), "ours + run dir" also writes the CSV files bin/mm-report reads. The twin
runs a tenth of the events once (it is ~50x slower); events/s is comparable. Ours and hftbacktest
report the best of three runs each.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.result import Result

GLFT = Path(__file__).resolve().with_name("_hftbacktest_glft.py")


def add_arguments(parser) -> None:
    parser.add_argument("--backtest-hours", type=float, default=1.0, help="synthetic hours for the backtest suite")


def _events(hours: float, directory: Path):
    from backtest.data import open_data
    from backtest.synth import synthesize
    synthesize(directory, hours=hours, seed=1)
    return [c.copy() for c in open_data(directory, 2_000_000)]


def _rate(chunks, twin: bool, interval_ms: float, out: Path | None = None, repeat: int = 3) -> tuple[float, dict]:
    """The best events/s of ``repeat`` runs (the machine is shared: the best is the least disturbed)."""
    from backtest.driver import Backtest
    from conf.load import load
    c = load(None, [f"backtest.requote_interval_ms={interval_ms}"])
    best = 0.0
    for _ in range(repeat):
        bt = Backtest(c, twin=twin, out=out)
        t = time.perf_counter()
        s = bt.run(iter(chunks))
        best = max(best, s["events"] / (time.perf_counter() - t))
    return best, s


def _reference(chunks, directory: Path) -> dict | None:
    """hftbacktest's GLFT quoter on the same events; None (with a note) when it cannot be set up."""
    from backtest.data import export_hftbacktest
    from conf.load import load
    from testkit import hftbacktest_env
    c = load(None, [])
    bt, risk, q = c.backtest, c.risk, c.quoter
    params = {"tick": bt.tick_size, "lot": bt.amount_tick, "entry_ns": int(bt.entry_latency_ms * 1e6),
              "response_ns": int(bt.response_latency_ms * 1e6), "maker_fee": risk.maker_fee_rate,
              "taker_fee": risk.taker_fee_rate, "gamma": q.gamma, "sigma": 5.0, "A": 1.0, "k": 0.1,
              "levels": q.levels, "order_qty": q.base_size, "order_unit": q.order_unit,
              "max_position": min(q.max_position, risk.max_position)}
    np.save(directory / "events.npy", export_hftbacktest(np.concatenate(chunks)))
    (directory / "params.json").write_text(json.dumps(params))
    try:
        out = hftbacktest_env.run(GLFT, directory / "events.npy", directory / "params.json")
    except hftbacktest_env.Unavailable as exc:
        print(f"[bench backtest] hftbacktest skipped: {exc}", file=sys.stderr)
        return None
    return json.loads(out.stdout)


def run(args) -> list[Result]:
    hours = 0.05 if args.quick else args.backtest_hours
    out = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        chunks = _events(hours, d / "data")
        n = sum(map(len, chunks))
        ref = _reference(chunks, d)
        ours, summary = _rate(chunks, False, 0.0)
        with_dir, _ = _rate(chunks, False, 0.0, d / "run")
        twin_chunks = chunks if hours <= 0.1 else chunks[:max(1, len(chunks) // 10)]
        twin, _ = _rate(twin_chunks, True, 0.0, repeat=1)
    label = f"{n:,} events, {summary['orders']['ladders']:,} ladders, {summary['fills']:,} fills"
    out.append(Result(f"backtest GLFT, ours ({label})", ours, "events/s", "pure-Python twin", twin))
    if ref is not None:
        hb = ref["events"] / ref["wall_s"]
        name = f"hftbacktest 2.4.4 GLFT ({ref['steps']:,} quote updates, {ref['fills']:,} fills)"
        out.append(Result(f"backtest GLFT, ours vs {name}", ours, "events/s", "hftbacktest", hb))
        out.append(Result("backtest GLFT, ours + run directory", with_dir, "events/s", "hftbacktest", hb))
        out.append(Result("hftbacktest numba compile (one-off, not counted above)", ref["compile_s"], "s",
                          "-", ref["compile_s"], 1.0))
    else:
        out.append(Result("backtest GLFT, ours + run directory", with_dir, "events/s", "pure-Python twin", twin))
    return out
