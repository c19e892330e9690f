"""``bin/mm-bench pipeline``: tick-to-order latency, measured by the exchange.

The local exchange stamps each ticker it sends and each order that arrives labelled with that
ticker's timestamp (sim/latency.py); the gap is tick-to-order: the whole path from the ticker
leaving the exchange to the order reaching it. Three clients, each against its own exchange with
the same options (seed, volatility, tick interval), measured in one run:

- ours: ``bin/mm run`` (feed -> quoter -> gateway processes over shared-memory rings, risk
  beside them), with ``--config FILE`` if given (conf/colo.toml: busy-spin on isolated cores);
- baseline: a single-process asyncio quoter on the official ``thalex`` client computing the same
  quotes with the same engine (bench/_asyncio_quoter.py);
- floor: a minimal client that answers each ticker with a prebuilt labelled mass_quote
  (bench/_floor_client.py): the exchange, loopback and one Python receive and send, nothing else.

All three run for the whole measurement, but only one exchange publishes market data at a time
(the others are stalled, ``sim/stall_feed``), in turns of ``--pipeline-seconds / rounds``: on a
shared machine whose load comes and goes, each figure then comes from the same stretches of time
as the others, not from a different minute.

Then the fast cancel: our exchange is made to jump JUMPS times; the gateway measures, for every
ladder it sends, the time from the market record's arrival in the feed to the message leaving,
and reports fast cancels apart from ordinary ladders (the baseline of that row, same run). The
per-hop rows split ours (shm/latency.py): feed (decode, checks), quoter (wake-up, model),
approve (the gateway's wake-up and pre-trade checks), send (encode, frame, write).

Both quoters quote BTC-PERPETUAL with the paper configuration; market-maker protection amounts are
raised so neither spends time refilling a tripped group.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.result import Result, percentiles_ns
from shm.histogram import quantile_ns
from shm.state import SharedState
from testkit.pipeline import ROOT, Pipeline, protection
from testkit.exchange import make_key_pair, running_sim
from runtime.timeslice import MAX_SLICE_US, MIN_SLICE_US, set_slice

BASELINE = "asyncio + official thalex client"
FLOOR = "floor: receive ticker, send prebuilt quote"
TOTAL = "ours: feed received -> sent, same run"
SIM_OPTS = {"seed": 7, "volatility": 5.0, "tick_interval": 0.02}
ROUNDS = 8
JUMPS = 8            # fast cancels measured (their p50 is the median of this many)
STALLED_S = 3600.0


def add_arguments(parser) -> None:
    # 40 s gives each client ~300 tick-to-order samples: a p99 is then the ~4th worst, not the
    # 2nd, and one stall of the VM inside one client's turn no longer decides the row alone.
    parser.add_argument("--pipeline-seconds", type=float, default=40.0,
                        help="pipeline suite: seconds measured per client (default 40), in turns")
    parser.add_argument("--peers-slice-us", type=_slice_us, default=0.0,
                        help="pipeline suite: give the asyncio peer and the floor client this scheduler "
                             "time slice too (us; default 0: the kernel's, as they ship)")
    parser.add_argument("--config", default=None,
                        help="pipeline suite: our configuration file (e.g. conf/colo.toml)")


def _slice_us(text: str) -> float:
    """--peers-slice-us: 0 (the kernel's slice, as the peers ship) or the kernel's range, us."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value and not MIN_SLICE_US <= value <= MAX_SLICE_US:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 or {MIN_SLICE_US:g}-{MAX_SLICE_US:g} us")
    return value


def check_cores(config: str | None) -> None:
    """Refuse a configuration that pins processes to CPUs this machine does not offer."""
    if not config:
        return
    import conf
    c = conf.load(config)
    wanted = {name: getattr(c.processes, name).cpu for name in c.processes.__dataclass_fields__}
    have = sorted(os.sched_getaffinity(0))
    missing = {name: cpu for name, cpu in wanted.items() if cpu >= 0 and cpu not in have}
    if missing:
        raise SystemExit(
            f"{config} pins {', '.join(f'{n} to CPU {cpu}' for n, cpu in missing.items())}, but this "
            f"machine offers CPUs {', '.join(map(str, have))}: run it on a host with those cores "
            "(isolated: README, 'Colo configuration'), or copy the file with CPUs that exist")


class Client:
    """One measured client and its exchange: ``resume`` its market data, ``pause`` it, ``take``
    the tick-to-order samples gathered since the last take."""

    def __init__(self, name: str, sim):
        self.name, self.sim, self.samples = name, sim, []

    def pause(self) -> None:
        self.sim.call("sim/stall_feed", {"seconds": STALLED_S})

    def resume(self) -> None:
        self.sim.call("sim/latency", {"clear": True})
        self.sim.call("sim/stall_feed", {"seconds": 0})

    def take(self) -> None:
        self.samples += self.sim.call("sim/latency", {"clear": True})["result"]["samples_ns"]


def _start_single(module: str, tmp: Path, stack, seconds: float, slice_us: float = 0.0) -> Client:
    """A one-process client (``python -m module URL KID KEY SECONDS``) against its own exchange,
    with ``slice_us`` as its scheduler time slice (0: the kernel's default)."""
    tmp.mkdir(parents=True, exist_ok=True)
    kid, private, public = make_key_pair(tmp)
    sim = stack.enter_context(running_sim(api_keys={kid: public}, **SIM_OPTS))
    proc = subprocess.Popen([sys.executable, "-m", module, sim.url, kid, str(private), str(seconds)],
                            cwd=ROOT, stdout=subprocess.DEVNULL)
    if slice_us and set_slice(slice_us, proc.pid) is None:
        raise SystemExit(f"--peers-slice-us {slice_us:g}: the kernel did not give {module} that slice")

    def stop():
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    stack.callback(stop)
    return Client(module, sim)


def _start_ours(tmp: Path, stack, config: str | None) -> tuple[Client, Pipeline]:
    tmp.mkdir(parents=True, exist_ok=True)
    kid, private, public = make_key_pair(tmp)
    sim = stack.enter_context(running_sim(api_keys={kid: public}, **SIM_OPTS))
    args = (["--config", config] if config else []) + [
        "--set", f"venue.url={sim.url}", *protection(10)]
    mm = Pipeline(tmp, *args, env={"THALEX_KEY_ID": kid, "THALEX_PRIVATE_KEY_FILE": str(private)})
    stack.callback(mm.stop)
    mm.wait(lambda s: s["quoting"], 30, "quoting")
    return Client("ours", sim), mm


def _fast_cancels(mm: Pipeline, sim, jumps: int) -> dict:
    sent = 0
    for i in range(jumps):   # up, down, up...: each must pull the exposed side at once
        sim.call("sim/trend", {"usd_per_s": 1000.0 * (-1) ** i, "seconds": 0.25})
        try:
            mm.wait(lambda s, n=sent + 1: s["latency_us"]["fast_cancels_sent"] >= n, 10, "a fast cancel")
            sent += 1
        except AssertionError:
            if i == jumps - 1 and not sent:
                raise    # not one jump pulled anything: that is a failure, not noise
        time.sleep(4.5)      # settle (3 s) and quote again
    time.sleep(0.6)          # the gateway's figures are refreshed twice a second
    return mm.ctl("status")["latency_us"]


def run(args) -> list[Result]:
    quick = getattr(args, "quick", False)
    seconds = 3.0 if quick else args.pipeline_seconds
    rounds = 1 if quick else ROUNDS
    config = getattr(args, "config", None)
    check_cores(config)
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as d, contextlib.ExitStack() as stack:
        ours, mm = _start_ours(Path(d) / "ours", stack, config)
        started = time.monotonic()
        budget = 3 * seconds + 60.0
        peers_slice = getattr(args, "peers_slice_us", 0.0)
        base = _start_single("bench._asyncio_quoter", Path(d) / "base", stack, budget, peers_slice)
        floor = _start_single("bench._floor_client", Path(d) / "floor", stack, budget, peers_slice)
        clients = [ours, base, floor]
        for c in clients:
            c.pause()
        time.sleep(2.0)                       # the single-process clients connect and log in
        for r in range(rounds):
            for c in clients[r % 3:] + clients[:r % 3]:     # each goes first in turn
                c.resume()
                time.sleep(seconds / rounds)
                c.take()
                c.pause()
        ours.resume()
        time.sleep(3.0)                       # fresh data again before the jumps
        hops = mm.ctl("status")["latency_us"]["hops"]["ladder"]
        sending = _sending(mm, time.monotonic() - started)   # before the jumps: the measured stretch only
        latency = _fast_cancels(mm, ours.sim, 1 if quick else JUMPS)
    if not ours.samples or not base.samples or not floor.samples:
        raise RuntimeError(f"no tick-to-order samples (ours {len(ours.samples)}, baseline "
                           f"{len(base.samples)}, floor {len(floor.samples)})")
    return results(ours.samples, base.samples, floor.samples, hops, latency, sending, peers_slice)


def _sending(mm: Pipeline, elapsed_s: float) -> dict:
    """The gateway's counts over the run so far (shm/state.py): md -> send of every ladder sent,
    the ladders that waited for an order token and how long in all (issue 19's message budget)."""
    state = SharedState.attach(mm.instance)
    try:
        s = state.snapshot()
    finally:
        state.close()
    return {"md_to_send_p50": quantile_ns(s["md_to_send_hist"], 0.5),
            "md_to_send_p99": quantile_ns(s["md_to_send_hist"], 0.99),
            "sent": s["orders_sent"], "waited": sum(s["token_wait_hist"]),
            "wait_s": s["token_wait_sum_ns"] / 1e9, "pulls_by_cancel": s["pulls_by_cancel"],
            "elapsed_s": elapsed_s}


def results(ours, base, floor, hops: dict, latency: dict, sending: dict | None = None,
            peers_slice_us: float = 0.0) -> list[Result]:
    """The rows; with ``peers_slice_us`` the peers' labels say the slice they ran with."""
    tag = f" ({peers_slice_us:g} us slice)" if peers_slice_us else ""
    peer, floor_label = BASELINE + tag, FLOOR + tag
    out = []
    for q, label in zip((50, 99, 99.9), ("p50", "p99", "p99.9")):
        o, = percentiles_ns(ours, (q,))
        b, = percentiles_ns(base, (q,))
        out.append(Result(f"pipeline.tick_to_order.{label}", o, "ns", peer, b))
    for q, label in zip((50, 99), ("p50", "p99")):
        o, = percentiles_ns(ours, (q,))
        f, = percentiles_ns(floor, (q,))
        out.append(Result(f"pipeline.tick_to_order.{label}.vs_floor", o, "ns", floor_label, f))
        b, = percentiles_ns(base, (q,))
        out.append(Result(f"pipeline.asyncio_peer.tick_to_order.{label}.vs_floor", b, "ns", floor_label, f))
    for hop in ("feed", "quoter", "approve", "send"):
        for q in ("p50", "p99"):
            out.append(Result(f"pipeline.hop.{hop}.{q}", hops[hop][q] * 1e3, "ns", TOTAL,
                              hops["total"][q] * 1e3))
    out.append(Result("pipeline.fast_cancel.md_to_send.p50", latency["fast_cancel_p50"] * 1e3, "ns",
                      "ordinary ladder md_to_send p50, same run", latency["md_to_send_p50"] * 1e3))
    out.append(Result("pipeline.fast_cancel.md_to_send.p99", latency["fast_cancel_p99"] * 1e3, "ns",
                      "ordinary ladder md_to_send p99, same run", latency["md_to_send_p99"] * 1e3))
    out.append(Result("pipeline.tick_to_order.samples", float(len(ours)), "count", peer,
                      float(len(base)), ratio=len(ours) / len(base)))
    if sending:
        p50, p99 = sending["md_to_send_p50"], sending["md_to_send_p99"]
        out.append(Result("pipeline.md_to_send.p99.vs_10x_p50", p99, "ns",
                          "10 x our md_to_send p50 (goal: p99 at most)", 10 * p50))
        out.append(Result("pipeline.token_wait.ladders", float(sending["waited"]), "count",
                          "ladders sent, same run", float(sending["sent"]), ratio=1.0))
        out.append(Result("pipeline.token_wait.total", sending["wait_s"] * 1e9, "ns",
                          "wall time the pipeline ran, same run", sending["elapsed_s"] * 1e9, ratio=1.0))
    return out
