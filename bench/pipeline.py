"""``bin/mm-bench pipeline``: tick-to-order latency, measured by the exchange.

The local exchange stamps each ticker it sends and each order that arrives labelled with that
ticker's timestamp (sim/latency.py); the gap is tick-to-order: the whole path from the ticker
leaving the exchange to the order reaching it. Measured twice in one run, each against its own
fresh exchange with the same options (seed, volatility, tick interval):

- ours: ``bin/mm run`` (feed -> quoter -> risk -> gateway processes over shared-memory rings);
- baseline: a single-process asyncio quoter on the official ``thalex`` client computing the same
  quotes with the same engine (bench/_asyncio_quoter.py);
- floor: a minimal client that answers each ticker with a prebuilt labelled mass_quote
  (bench/_floor_client.py): the exchange, loopback and one Python receive and send, nothing else.

Then the fast cancel: the exchange is made to jump a few times; the gateway measures, for every
ladder it sends, the time from the market record's arrival in the feed to the message leaving,
and reports fast cancels apart from ordinary ladders (the baseline of that row, same run).

Both quote BTC-PERPETUAL with the paper configuration; market-maker protection amounts are
raised so neither spends time refilling a tripped group.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.result import Result, percentiles_ns
from testkit.pipeline import ROOT, Pipeline
from testkit.exchange import make_key_pair, running_sim

BASELINE = "asyncio + official thalex client"
FLOOR = "floor: receive ticker, send prebuilt quote"
SIM_OPTS = {"seed": 7, "volatility": 5.0, "tick_interval": 0.02}


def add_arguments(parser) -> None:
    parser.add_argument("--pipeline-seconds", type=float, default=20.0,
                        help="pipeline suite: seconds measured per quoter (default 20)")


def _ours(tmp: Path, seconds: float, jumps: int = 3) -> tuple[list[int], dict]:
    kid, private, public = make_key_pair(tmp)
    with running_sim(api_keys={kid: public}, **SIM_OPTS) as sim:
        mm = Pipeline(tmp, "--set", f"venue.url={sim.url}", "--set", "gateway.mmp_trade_amount=10",
                      "--set", "gateway.mmp_quote_amount=10",
                      env={"THALEX_KEY_ID": kid, "THALEX_PRIVATE_KEY_FILE": str(private)})
        try:
            mm.wait(lambda s: s["quoting"], 30, "quoting")
            sim.call("sim/latency", {"clear": True})
            time.sleep(seconds)
            samples = sim.call("sim/latency", {})["result"]["samples_ns"]
            for i in range(jumps):   # up, down, up: each must pull the exposed side at once
                sim.call("sim/trend", {"usd_per_s": 1000.0 * (-1) ** i, "seconds": 0.25})
                mm.wait(lambda s, n=i + 1: s["latency_us"]["fast_cancels_sent"] >= n, 10, "a fast cancel")
                time.sleep(4.5)      # settle (3 s) and quote again
            mm.wait(lambda s: True, 2, "")
            time.sleep(0.3)          # one more heartbeat so the gateway's percentiles are current
            latency = mm.ctl("status")["latency_us"]
        finally:
            mm.stop()
    return samples, latency


def _single_process(module: str, tmp: Path, seconds: float) -> list[int]:
    """Tick-to-order samples of a one-process client (``python -m module URL KID KEY SECONDS``)."""
    tmp.mkdir(parents=True, exist_ok=True)
    kid, private, public = make_key_pair(tmp)
    with running_sim(api_keys={kid: public}, **SIM_OPTS) as sim:
        proc = subprocess.Popen([sys.executable, "-m", module, sim.url, kid, str(private),
                                 str(seconds + 2.0)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(2.0)   # connect, login, first quotes
            sim.call("sim/latency", {"clear": True})
            proc.wait(timeout=seconds + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        return sim.call("sim/latency", {})["result"]["samples_ns"]


def run(args) -> list[Result]:
    seconds = 3.0 if getattr(args, "quick", False) else args.pipeline_seconds
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as d:
        (Path(d) / "ours").mkdir()
        ours, latency = _ours(Path(d) / "ours", seconds, jumps=1 if getattr(args, "quick", False) else 3)
        base = _single_process("bench._asyncio_quoter", Path(d) / "base", seconds)
        floor = _single_process("bench._floor_client", Path(d) / "floor", seconds)
    if not ours or not base or not floor:
        raise RuntimeError(f"no tick-to-order samples (ours {len(ours)}, baseline {len(base)}, "
                           f"floor {len(floor)})")
    results = []
    for q, label in zip((50, 99, 99.9), ("p50", "p99", "p99.9")):
        o, = percentiles_ns(ours, (q,))
        b, = percentiles_ns(base, (q,))
        results.append(Result(f"pipeline.tick_to_order.{label}", o, "ns", BASELINE, b))
    for q, label in zip((50, 99), ("p50", "p99")):
        o, = percentiles_ns(ours, (q,))
        f, = percentiles_ns(floor, (q,))
        results.append(Result(f"pipeline.tick_to_order.{label}.vs_floor", o, "ns", FLOOR, f))
        b, = percentiles_ns(base, (q,))
        results.append(Result(f"pipeline.asyncio_peer.tick_to_order.{label}.vs_floor", b, "ns", FLOOR, f))
    results.append(Result("pipeline.fast_cancel.md_to_send.p50", latency["fast_cancel_p50"] * 1e3, "ns",
                          "ordinary ladder md_to_send p50, same run", latency["md_to_send_p50"] * 1e3))
    results.append(Result("pipeline.fast_cancel.md_to_send.p99", latency["fast_cancel_p99"] * 1e3, "ns",
                          "ordinary ladder md_to_send p99, same run", latency["md_to_send_p99"] * 1e3))
    results.append(Result("pipeline.tick_to_order.samples", float(len(ours)), "count", BASELINE,
                          float(len(base)), ratio=len(ours) / len(base)))
    return results
