"""One run's figures, from its run directory (pnl.csv: one row per simulated second) and summary.

    pnl_usd            equity at the end (realised + unrealised - fees), USD
    pnl_per_hour_usd   pnl_usd / simulated hours
    sharpe             mean / std of the 1-minute equity changes x sqrt(minutes in a year)
                       (crypto trades around the clock); NaN when equity never moved
    fills, fill_ratio  fills, and fills per order inserted
    max_drawdown_usd   the largest fall of equity from its running maximum (start: 0), USD
    inventory_std      standard deviation of the per-second position, contracts
    time_<state>_s     seconds in each trading state (ACTIVE, REDUCING, HALTED)

And the objectives a sweep can rank by, each with the direction that is better.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from shm.state import TRADING_STATE_NAMES

SAMPLE_S = 1.0                  # pnl.csv has one row per simulated second (backtest/driver.py)
MINUTES_PER_YEAR = 365.0 * 24.0 * 60.0

# objective -> +1 when higher is better, -1 when lower is better
OBJECTIVES = {"sharpe": 1, "pnl_usd": 1, "pnl_per_hour_usd": 1, "fills": 1, "fill_ratio": 1,
              "max_drawdown_usd": -1, "inventory_std": -1}
STATE_COLUMNS = [f"time_{name.lower()}_s" for name in TRADING_STATE_NAMES.values()]
COLUMNS = ["pnl_usd", "pnl_per_hour_usd", "sharpe", "fills", "fill_ratio", "max_drawdown_usd",
           "inventory_std", *STATE_COLUMNS, "fees_usd", "position", "final_state", "simulated_s", "events"]


def _samples(pnl_csv: Path):
    with open(pnl_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    equity = np.array([float(r["equity"]) for r in rows], dtype=np.float64)
    position = np.array([float(r["position"]) for r in rows], dtype=np.float64)
    states = [r["state"] for r in rows]
    return equity, position, states


def sharpe(equity: np.ndarray) -> float:
    """Annualised Sharpe ratio of the 1-minute changes of a per-second equity series."""
    per_minute = np.diff(np.concatenate(([0.0], equity[59::60])))
    if len(per_minute) < 2:
        return float("nan")
    sd = float(np.std(per_minute, ddof=1))
    return float(np.mean(per_minute)) / sd * math.sqrt(MINUTES_PER_YEAR) if sd > 0 else float("nan")


def max_drawdown(equity: np.ndarray) -> float:
    if len(equity) == 0:
        return 0.0
    curve = np.concatenate(([0.0], equity))
    return float(np.max(np.maximum.accumulate(curve) - curve))


def from_run(run_dir: Path, summary: dict) -> dict:
    """The figures above for the backtest that wrote ``run_dir`` and returned ``summary``."""
    equity, position, states = _samples(Path(run_dir) / "pnl.csv")
    hours = summary["simulated_s"] / 3600.0
    inserts = summary["orders"]["insert"]
    out = {"pnl_usd": float(summary["equity_usd"]),
           "pnl_per_hour_usd": float(summary["equity_usd"]) / hours if hours > 0 else float("nan"),
           "sharpe": sharpe(equity), "fills": int(summary["fills"]),
           "fill_ratio": summary["fills"] / inserts if inserts else float("nan"),
           "max_drawdown_usd": max_drawdown(equity),
           "inventory_std": float(np.std(position)) if len(position) else float("nan")}
    for name, column in zip(TRADING_STATE_NAMES.values(), STATE_COLUMNS):
        out[column] = SAMPLE_S * states.count(name)
    out.update(fees_usd=float(summary["fees_usd"]), position=float(summary["position"]),
               final_state=summary["trading_state"], simulated_s=float(summary["simulated_s"]),
               events=int(summary["events"]))
    return out


def sort_key(objective: str):
    """A key for sorted(): the best row first; failed runs and NaN objectives last."""
    sign = OBJECTIVES[objective]

    def key(row):
        v = row.get(objective)
        bad = row.get("status") != "ok" or v is None or (isinstance(v, float) and math.isnan(v))
        return (1, 0.0) if bad else (0, -sign * float(v))
    return key
