"""heatmap.png (a two-setting grid: the objective in each cell) and ranking.png (every run's
objective, best first, with the chosen runs' test scores beside their train scores)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sweep.metrics import OBJECTIVES


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _value(row: dict, objective: str) -> float:
    v = row.get(objective) if row.get("status") == "ok" else None
    return float("nan") if v is None else float(v)


def _short(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def heatmap(rows: list[dict], x_axis, y_axis, objective: str, title: str, path: Path) -> Path:
    """``rows``: one per grid point (train or all data); x_axis, y_axis: plan.Axis."""
    plt = _pyplot()
    grid = np.full((len(y_axis.values), len(x_axis.values)), np.nan)
    failed = np.zeros(grid.shape, bool)
    for r in rows:
        try:
            i, j = y_axis.values.index(r[y_axis.key]), x_axis.values.index(r[x_axis.key])
        except (KeyError, ValueError):
            continue
        grid[i, j] = _value(r, objective)
        failed[i, j] = r.get("status") != "ok"
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(x_axis.values) + 3), 0.8 * len(y_axis.values) + 2.5))
    cmap = plt.get_cmap("RdYlGn" if OBJECTIVES[objective] > 0 else "RdYlGn_r").with_extremes(bad="lightgrey")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", origin="lower")
    ax.set_xticks(range(len(x_axis.values)), [_short(v) for v in x_axis.values])
    ax.set_yticks(range(len(y_axis.values)), [_short(v) for v in y_axis.values])
    ax.set_xlabel(x_axis.key)
    ax.set_ylabel(y_axis.key)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            text = "failed" if failed[i, j] else ("-" if math.isnan(grid[i, j]) else f"{grid[i, j]:.3g}")
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    if np.isfinite(grid).any():
        best = np.nanargmax(grid * OBJECTIVES[objective])
        i, j = np.unravel_index(best, grid.shape)
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.5, ec="black"))
    fig.colorbar(im, ax=ax, label=objective)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def ranking(ranked: list[dict], tests: dict, param_keys: list[str], objective: str, title: str,
            path: Path) -> Path:
    """``ranked``: the train (or all-data) rows, best first; ``tests``: run_id of a train row ->
    its params' test row."""
    plt = _pyplot()
    n = len(ranked)
    fig, ax = plt.subplots(figsize=(min(16, max(6.0, 3 + 0.35 * n)), 4.5))
    x = np.arange(n)
    ax.bar(x, [_value(r, objective) for r in ranked], color="tab:blue", label="train" if tests else "all data")
    if tests:
        idx = [k for k, r in enumerate(ranked) if r["run_id"] in tests]
        ax.plot(idx, [_value(tests[ranked[k]["run_id"]], objective) for k in idx], "D", color="tab:red",
                label="test (chosen on train)")
    if n <= 40:
        ax.set_xticks(x, ["\n".join(_short(r.get(k)) for k in param_keys) for r in ranked], fontsize=7)
        ax.set_xlabel(" / ".join(param_keys))
    else:
        ax.set_xlabel(f"run, best first ({n} runs)")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylabel(objective)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
