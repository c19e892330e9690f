"""A whole sweep: the plan, the data into Ray once, every parameter set on the training window
(or all the data), the ranking, the chosen sets on the test window, then the results.

Output directory (default runs/sweep-<data>-<hash of the command>, so the same command finds
its earlier results):
    runs.jsonl        every finished run, as it finished (the resume journal)
    results.parquet   one row per run (sweep/tables.py lists the columns), and results.csv
    heatmap.png       two-setting grids: the objective per cell (train or all data)
    ranking.png       every run's objective, best first; the chosen sets' test scores beside
    best.toml         the best set on train (or all data) as a configuration file
    summary.json      the plan, the counts, the best set with its train and test figures
"""
from __future__ import annotations

import json
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backtest.data import DataError, open_data
from backtest.entry import feed_latency_ns
from conf.load import DEFAULT_FILE, ConfigError, load
from sweep import identity, overlay, plots, tables
from sweep.journal import Journal
from sweep.metrics import COLUMNS, OBJECTIVES, sort_key
from sweep.plan import Combo, PlanError, combinations, parse_grid, parse_range
from sweep.progress import Progress
from sweep.runner import Interrupted, cpu_slots, ray_session, run_tasks
from sweep.window import Window, WindowError, parse_span, split


@dataclass
class SweepArgs:
    data: Path
    grid: list = field(default_factory=list)          # "SECTION.KEY=V1,V2,..."
    ranges: list = field(default_factory=list)        # "SECTION.KEY=LO:HI[:log]"
    random: int = 0
    seed: int = 1
    config: str | None = None
    objective: str = "sharpe"
    train: str | None = None
    test: str | None = None
    split: float | None = None
    top: int = 3                                      # sets chosen on train and scored on test
    address: str | None = None
    workers: int | None = None
    out: Path | None = None
    keep_runs: bool = False
    stream: object = None                             # the progress line's stream (stderr)


@dataclass
class SweepResult:
    out: Path
    rows: list                # the table rows: train (or all) rows, best first, then test rows
    summary: dict
    executed: int             # runs done by this call (the rest were resumed from the journal)
    interrupted: bool = False


def windows(args: SweepArgs, t0: int, t1: int) -> tuple[Window, Window | None]:
    if args.split is not None:
        if args.train or args.test:
            raise WindowError("--split F or --train/--test: not both")
        return split(args.split, t0, t1)
    if bool(args.train) != bool(args.test):
        raise WindowError("--train and --test go together (or --split F)")
    if args.train:
        return parse_span(args.train, "--train", "train", t0, t1), parse_span(args.test, "--test", "test", t0, t1)
    return Window("all"), None


def read_events(data: Path, latency_ns: int) -> list:
    chunks = list(open_data(Path(data), latency_ns))
    if not sum(len(c) for c in chunks):
        raise DataError(f"{data}: no market events")
    return chunks


class Sweep:
    def __init__(self, args: SweepArgs):
        if args.objective not in OBJECTIVES:
            raise PlanError(f"--objective {args.objective!r}: expected one of {', '.join(OBJECTIVES)}")
        if args.top < 1:
            raise PlanError(f"--top {args.top}: must be >= 1")
        self.args = args
        self.axes = [parse_grid(g) for g in args.grid]
        self.ranges = [parse_range(r) for r in args.ranges]
        self.combos = combinations(self.axes, self.ranges, args.random, args.seed)
        self.keys = [a.key for a in self.axes] + [r.key for r in self.ranges]
        self.config_name = str(Path(args.config).resolve()) if args.config else str(DEFAULT_FILE)
        base = load(self.config_name)
        self.config_text = Path(self.config_name).read_text()
        self.latency = {}                    # overrides -> the run's feed latency (ns)
        for c in self.combos:
            try:
                self.latency[c.overrides] = feed_latency_ns(load(self.config_name, list(c.overrides)))
            except ConfigError:              # this run fails in its task, with this message
                self.latency[c.overrides] = feed_latency_ns(base)
        self.data = Path(args.data)
        self.events = {lat: None for lat in sorted(set(self.latency.values()))}
        first = next(iter(self.events))
        self.events[first] = read_events(self.data, first)
        t0 = min(int(c["exch_ts"].min()) for c in self.events[first] if len(c))
        t1 = max(int(c["exch_ts"].max()) for c in self.events[first] if len(c))
        self.span = (t0, t1)
        self.first_window, self.test_window = windows(args, t0, t1)
        self.print = identity.data_fingerprint(self.data)
        plan = {"grid": args.grid, "ranges": args.ranges, "random": args.random, "seed": args.seed,
                "objective": args.objective, "top": args.top,
                "train": (self.first_window.start_ns, self.first_window.end_ns),
                "test": self.test_window and (self.test_window.start_ns, self.test_window.end_ns)}
        name = self.data.resolve().name or "data"
        self.out = Path(args.out) if args.out else \
            Path("runs") / f"sweep-{name}-{identity.sweep_id(self.print, self.config_text, plan)}"

    def specs(self, combos, window: Window) -> list[dict]:
        keep = str((self.out / "runs").resolve()) if self.args.keep_runs else None
        return [{"run_id": identity.run_id(self.print, self.config_text, c.overrides,
                                           (window.part, window.start_ns, window.end_ns)),
                 "part": window.part, "window": (window.part, window.start_ns, window.end_ns),
                 "params": c.params, "overrides": c.overrides, "config_name": self.config_name,
                 "config_text": self.config_text, "keep_dir": keep, "latency_ns": self.latency[c.overrides]}
                for c in combos]

    # ---- running ------------------------------------------------------------------------------
    def run(self) -> SweepResult:
        self.out.mkdir(parents=True, exist_ok=True)
        journal = Journal(self.out / "runs.jsonl")
        first = self.specs(self.combos, self.first_window)
        tests: list[dict] = []
        interrupted = False
        try:
            with ray_session(self.args.address, self.args.workers) as ray:
                limit = self.args.workers or cpu_slots(ray)
                refs = {}

                def execute(specs, label) -> None:
                    todo = [s for s in specs if not journal.finished(s["run_id"])]
                    progress = Progress(label, len(specs), len(specs) - len(todo), self.args.stream)
                    for lat in {s["latency_ns"] for s in todo} - set(refs):
                        events = self.events[lat] if self.events[lat] is not None else read_events(self.data, lat)
                        refs[lat] = ray.put(events)          # once; each node fetches one copy
                        self.events[lat] = None
                    if todo:
                        run_tasks(ray, todo, refs, journal, progress, limit)
                    else:
                        progress.show(final=True)

                execute(first, self.first_window.part)
                if self.test_window is not None:
                    chosen = [r for r in self.ranked(journal, first) if r["status"] == "ok"][:self.args.top]
                    by_id = {s["run_id"]: s for s in first}
                    combos = [Combo(by_id[r["run_id"]]["params"], by_id[r["run_id"]]["overrides"]) for r in chosen]
                    tests = self.specs(combos, self.test_window)
                    execute(tests, "test")
        except (Interrupted, KeyboardInterrupt):
            # KeyboardInterrupt too: Ray can raise the Ctrl-C again from inside ray.shutdown().
            interrupted = True
        finally:
            journal.close()
        if not interrupted:
            return self.finish(journal, first, tests, journal.appended, interrupted)
        # Interrupted: the tables of the runs that finished are written whatever else arrives (a
        # second Ctrl-C, the first one delivered late): a KeyboardInterrupt inside finish() left
        # the journal without its results.csv (seen once in CI).
        if threading.current_thread() is not threading.main_thread():
            return self.finish(journal, first, tests, journal.appended, interrupted)  # no signals here
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return self.finish(journal, first, tests, journal.appended, interrupted)
        finally:
            signal.signal(signal.SIGINT, previous)

    def ranked(self, journal: Journal, specs: list[dict]) -> list[dict]:
        rows = [journal.rows[s["run_id"]] for s in specs if s["run_id"] in journal.rows]
        return sorted(rows, key=sort_key(self.args.objective))

    # ---- results ------------------------------------------------------------------------------
    def finish(self, journal, first, tests, executed, interrupted) -> SweepResult:
        obj = self.args.objective
        ranked = [dict(r) for r in self.ranked(journal, first)]
        rank = {}
        for i, r in enumerate(ranked):
            r["window"] = self.first_window.label(self.span)
            r["train_rank"] = rank[r["overrides"]] = i + 1 if r["status"] == "ok" else None
        test_rows = []
        for s in tests:
            if s["run_id"] in journal.rows:
                r = dict(journal.rows[s["run_id"]])
                r.update(window=self.test_window.label(self.span), train_rank=rank.get(r["overrides"]))
                test_rows.append(r)
        rows = ranked + test_rows
        files = tables.write(rows, self.keys, self.out) if rows else []
        best = ranked[0] if ranked and ranked[0]["status"] == "ok" else None
        test_of = {r["overrides"]: r for r in test_rows}
        if not interrupted and best is not None:
            files += self.pictures(ranked, test_of)
            comment = [f"bin/mm-sweep: the best set by {obj} on {self.first_window.part} "
                       f"({self.first_window.label(self.span)}) of {self.data}",
                       f"= {self.config_name} with: {best['overrides']}",
                       "use: bin/mm run --config THIS_FILE, bin/mm-backtest DATA --config THIS_FILE"]
            overrides = next(s["overrides"] for s in first if s["run_id"] == best["run_id"])
            files.append(overlay.write(self.out / "best.toml", self.config_name, self.config_text,
                                       overrides, comment))
        ok = sum(r["status"] == "ok" for r in rows)
        summary = {"data": str(self.data), "config": self.config_name, "objective": obj, "out": str(self.out),
                   "windows": {self.first_window.part: self.first_window.label(self.span),
                               **({"test": self.test_window.label(self.span)} if self.test_window else {})},
                   "runs": {"planned": len(first) + len(tests), "finished": len(rows), "ok": ok,
                            "failed": len(rows) - ok, "executed": executed, "interrupted": interrupted},
                   "best": None if best is None else {
                       "params": {k: best.get(k) for k in self.keys}, "overrides": best["overrides"],
                       self.first_window.part: _figures(best), "test": _figures(test_of.get(best["overrides"]))},
                   "chosen": [{"params": {k: r.get(k) for k in self.keys}, "train_rank": r["train_rank"],
                               self.first_window.part: r.get(obj), "test": (test_of.get(r["overrides"]) or {}).get(obj)}
                              for r in ranked[:self.args.top] if r["status"] == "ok"],
                   "files": [str(f) for f in files]}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
        return SweepResult(self.out, rows, summary, executed, interrupted)

    def pictures(self, ranked, test_of) -> list[Path]:
        obj, w = self.args.objective, self.first_window
        title = f"{obj} on {w.part}: {self.data.name}\n{w.label(self.span)}"
        tests = {r["run_id"]: test_of[r["overrides"]] for r in ranked if r["overrides"] in test_of}
        out = [plots.ranking(ranked, tests, self.keys, obj, title, self.out / "ranking.png")]
        if len(self.axes) == 2 and not self.ranges:
            out.append(plots.heatmap(ranked, self.axes[1], self.axes[0], obj, title, self.out / "heatmap.png"))
        return out


def _figures(row: dict | None) -> dict | None:
    if row is None or row.get("status") != "ok":
        return None
    return {k: row.get(k) for k in COLUMNS}


def _json_default(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return str(v)


def sweep(args: SweepArgs) -> SweepResult:
    """Plan, run and write a sweep (raises PlanError, WindowError, ConfigError or DataError)."""
    return Sweep(args).run()

