"""A recorded run's CSV files as columns of NumPy arrays (time in seconds since the run began)."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

FILES = ("md", "quotes", "fills", "orders", "pnl", "latency", "trades", "instruments", "portfolio", "sending")
NUMERIC_SKIP = {"quotes": {"kind", "bids", "asks"}, "orders": {"event"}, "pnl": {"state"}, "portfolio": {"underlying"},
                "fills": {"order_id", "trade_id"},
                "sending": {"md_to_send_hist", "token_wait_hist"}}   # the exchange's hex ids stay text


class Run:
    """Columns by file: ``run.md["bid"]``; ``t`` columns are seconds from the first record."""

    def __init__(self, run_dir: Path, tables: dict, settings: dict):
        self.dir, self.settings = run_dir, settings
        for name, table in tables.items():
            setattr(self, name, table)


def latest_run(root: Path) -> Path:
    runs = sorted((p for p in root.iterdir() if (p / "settings.json").exists()), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise FileNotFoundError(f"no recorded run under {root} (a run directory holds settings.json)")
    return runs[-1]


def load(run_dir: Path, progress: bool = True) -> Run:
    if not (run_dir / "settings.json").exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory: it has no settings.json")
    raw = {name: _read(run_dir / f"{name}.csv", progress) for name in FILES}
    starts = [float(cols["time_ns"][0]) for cols in raw.values() if len(cols.get("time_ns", ()))]
    t0 = min(starts) if starts else 0
    tables = {}
    for name, cols in raw.items():
        table = {}
        for key, values in cols.items():
            if key in NUMERIC_SKIP.get(name, ()):
                table[key] = np.asarray(values, dtype=object)
            else:
                table[key] = np.asarray([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
        table["t"] = (table["time_ns"] - t0) / 1e9 if "time_ns" in table else np.zeros(0)
        tables[name] = table
    return Run(run_dir, tables, json.loads((run_dir / "settings.json").read_text()))


def _read(path: Path, progress: bool) -> dict[str, list]:
    if not path.exists():
        return {}
    size = path.stat().st_size
    show = progress and size > 20_000_000   # a progress bar only when it takes a while
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        cols = {h: [] for h in header}
        lists = [cols[h] for h in header]
        for i, row in enumerate(reader):
            if len(row) != len(header):
                continue   # a row cut short by a crash: skipped, not fatal
            for col, value in zip(lists, row):
                col.append(value)
            if show and i % 200_000 == 0:
                _bar(path.name, f.tell() / size)
    if show:
        _bar(path.name, 1.0)
        print(file=sys.stderr)
    return cols


def _bar(name: str, fraction: float) -> None:
    filled = int(30 * fraction)
    print(f"\r{name:<14} [{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}%", end="",
          file=sys.stderr, flush=True)
