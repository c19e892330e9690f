"""Sweep throughput on Ray: backtests per second with one worker and with two (one local Ray of
2 CPUs, at most 1 or 2 tasks in flight), beside the same runs done directly in this process,
and Ray's overhead per task: with one worker, the sweep's wall time minus the time the runs took
inside their tasks, per run (submitting, scheduling, handing over the data and the row back),
beside the time of one run.

Each run is a whole sweep task (sweep/task.py: cut the events, bin/mm-backtest's code path with
its run directory, the figures) over synthetic data already in the object store; the workers
are warmed up first (their first task imports the backtester), so the figures are steady state,
and they run at niceness 0 like the direct baseline (a sweep's own workers run at Ray's 15).
Each figure is the best of ``--sweep-repeats`` timings, taken in turn (direct, 1 worker,
2 workers, again): the 2 cores are shared with whatever else runs, and the best timing is the
one least disturbed.
"""
from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

from bench.result import Result


def add_arguments(parser) -> None:
    parser.add_argument("--sweep-hours", type=float, default=0.1, help="synthetic hours per sweep run")
    parser.add_argument("--sweep-runs", type=int, default=8, help="runs per timed sweep (even)")
    parser.add_argument("--sweep-repeats", type=int, default=3, help="timings per figure (the best is kept)")


def _specs(data: Path, n: int, tmp: Path):
    from sweep.run import Sweep, SweepArgs
    gammas = ",".join(f"{0.01 * (i + 1):g}" for i in range(max(1, n // 2)))
    s = Sweep(SweepArgs(data=data, grid=[f"quoter.gamma={gammas}", "quoter.levels=3,5"], out=tmp / "out"))
    chunks = next(c for c in s.events.values() if c is not None)
    return s.specs(s.combos, s.first_window), chunks


def _rate(ray, specs, ref, limit: int, tmp: Path) -> tuple[float, float]:
    """(runs per second, seconds per run spent outside the runs themselves)."""
    from sweep.journal import Journal
    from sweep.progress import Progress
    from sweep.runner import run_tasks
    journal = Journal(tmp / f"runs-{limit}-{time.monotonic_ns()}.jsonl")
    refs = {specs[0]["latency_ns"]: ref}
    t = time.perf_counter()
    rows = run_tasks(ray, specs, refs, journal, Progress("bench", len(specs), stream=io.StringIO()), limit)
    wall = time.perf_counter() - t
    journal.close()
    bad = [r["error"] for r in rows if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"bench sweep: a run failed: {bad[0]}")
    return len(rows) / wall, (wall * limit - sum(r["wall_s"] for r in rows)) / len(rows)


def _noop():
    return None


def _round_trip_ms(ray, n: int = 200) -> float:
    """Submit-to-result time of an empty Ray task, one at a time (ms)."""
    noop = ray.remote(num_cpus=1)(_noop)
    ray.get(noop.remote())
    t = time.perf_counter()
    for _ in range(n):
        ray.get(noop.remote())
    return (time.perf_counter() - t) / n * 1e3


def _direct_rate(tasks, chunks) -> float:
    from sweep.task import run_one
    t = time.perf_counter()
    for task in tasks:
        run_one(task, chunks)
    return len(tasks) / (time.perf_counter() - t)


def run(args) -> list[Result]:
    from backtest.synth import synthesize
    from sweep.runner import ray_session
    hours = 0.02 if args.quick else args.sweep_hours
    n = 4 if args.quick else max(2, args.sweep_runs // 2 * 2)
    repeats = 1 if args.quick else max(1, args.sweep_repeats)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        synthesize(tmp / "data", hours=hours, seed=1)
        specs, chunks = _specs(tmp / "data", n, tmp)
        tasks = [{k: v for k, v in spec.items() if k != "latency_ns"} for spec in specs]
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray starts its workers at niceness 15 (a sweep yields to a live pipeline on the same
        # host); here they run at the direct baseline's priority, so the two compare.
        os.environ.setdefault("RAY_worker_niceness", "0")
        import ray
        own = not ray.is_initialized()
        if own:
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                     logging_level="warning")
        try:
            with ray_session() as r:
                ref = r.put(chunks)
                _direct_rate(tasks[:1], chunks)                  # warm this process up
                _rate(r, specs[:2], ref, 2, tmp)                 # ... and both workers
                direct = one = two = 0.0
                overhead = float("inf")
                # Interleaved, so the three see the same neighbours on the shared cores.
                for _ in range(repeats):
                    direct = max(direct, _direct_rate(tasks, chunks))
                    rate, over = _rate(r, specs, ref, 1, tmp)
                    one, overhead = max(one, rate), min(overhead, over)
                    two = max(two, _rate(r, specs, ref, 2, tmp)[0])
                empty = _round_trip_ms(r)
        finally:
            if own:
                ray.shutdown()
    events = sum(len(c) for c in chunks)
    what = f"{n} runs of {hours:g} h synthetic ({events:,} events)"
    return [Result(f"sweep on Ray, 1 worker: {what}", one, "runs/s", "direct, in this process", direct),
            Result(f"sweep on Ray, 2 workers (2 cores): {what}", two, "runs/s", "sweep on Ray, 1 worker", one),
            Result("Ray overhead per task (1 worker: wall time minus time inside the runs)", 1e3 * overhead,
                   "ms", "one direct run", 1e3 / direct),
            Result("Ray round trip of an empty task", empty, "ms", "one direct run", 1e3 / direct)]
