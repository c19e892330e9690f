"""The report's PNG figures, drawn headless (matplotlib Agg). Time axis: seconds into the run."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PLOTS = ("price", "inventory", "pnl", "spread", "estimators", "latency")


def draw_all(run, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PLOTS:
        fig = globals()[f"_{name}"](run)
        path = out / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def _quoting(run, t):
    """True where the run was quoting: not HALTED and not paused (from pnl.csv, sampled each second);
    the quoter keeps computing ladders while risk pulls them, and those never reached the exchange."""
    p = run.pnl
    if not len(p.get("t", ())):
        return np.ones(len(t), dtype=bool)
    idx = np.clip(np.searchsorted(p["t"], t, side="right") - 1, 0, len(p["t"]) - 1)
    return (p["state"][idx] != "HALTED") & (p["paused"][idx] == 0)


def _axes(title: str, ylabel: str, rows: int = 1):
    fig, axes = plt.subplots(rows, 1, figsize=(10, 3.2 * rows), sharex=True, squeeze=False)
    axes[0][0].set_title(title)
    for ax in axes[:, 0]:
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    axes[-1][0].set_xlabel("time into the run (s)")
    axes[0][0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig, [a[0] for a in axes]


def _price(run):
    fig, (ax,) = _axes("Mid, our best bid/ask and our fills", "USD")
    md, q, f = run.md, run.quotes, run.fills
    if len(md.get("t", ())):
        ax.plot(md["t"], (md["bid"] + md["ask"]) / 2, color="0.4", lw=0.8, label="market mid")
    if len(q.get("t", ())):
        live = _quoting(run, q["t"])
        ax.step(q["t"], np.where(live, q["bid0"], np.nan), where="post", color="tab:green", lw=0.8, label="our bid")
        ax.step(q["t"], np.where(live, q["ask0"], np.nan), where="post", color="tab:red", lw=0.8, label="our ask")
    if len(f.get("t", ())):
        buys, sells = f["side"] > 0, f["side"] < 0
        ax.scatter(f["t"][buys], f["price"][buys], marker="^", color="tab:green", s=18, label="we bought")
        ax.scatter(f["t"][sells], f["price"][sells], marker="v", color="tab:red", s=18, label="we sold")
    ax.legend(loc="best", fontsize=8)
    return fig


def _inventory(run):
    fig, (ax,) = _axes("Inventory", "contracts")
    p = run.pnl
    if len(p.get("t", ())):
        ax.step(p["t"], p["position"], where="post", color="tab:blue")
        ax.axhline(0, color="0.5", lw=0.5)
    return fig


def _pnl(run):
    fig, (ax,) = _axes("Cumulative P&L", "USD")
    p = run.pnl
    if len(p.get("t", ())):
        for col, color in (("equity", "black"), ("realised", "tab:green"), ("unrealised", "tab:orange"),
                           ("fees", "tab:red")):
            ax.plot(p["t"], -p[col] if col == "fees" else p[col], color=color, lw=1,
                    label="fees (paid)" if col == "fees" else col)
        ax.legend(loc="best", fontsize=8)
    return fig


def _spread(run):
    fig, (ax,) = _axes("Our spread against the market's", "USD")
    md, q = run.md, run.quotes
    if len(md.get("t", ())):
        ax.plot(md["t"], md["ask"] - md["bid"], color="0.5", lw=0.8, label="market best ask - best bid")
    if len(q.get("t", ())):
        ax.step(q["t"], np.where(_quoting(run, q["t"]), q["ask0"] - q["bid0"], np.nan), where="post",
                color="tab:purple", lw=1, label="our ask - bid")
    ax.legend(loc="best", fontsize=8)
    return fig


def _estimators(run):
    fig, (ax1, ax2) = _axes("Estimated volatility and intensity decay", "sigma (USD/sqrt(s))", rows=2)
    q = run.quotes
    if len(q.get("t", ())):
        ax1.plot(q["t"], q["sigma"], color="tab:blue")
        ax2.plot(q["t"], q["k"], color="tab:brown")
    ax2.set_ylabel("k (1/USD)")
    return fig


def _latency(run):
    fig, (ax,) = _axes("Market record received -> ladder published", "ladders")
    lat = run.quotes.get("latency_ns", np.zeros(0))
    lat = lat[np.isfinite(lat)] / 1e3 if len(lat) else lat
    if len(lat):
        lo, hi = max(float(lat.min()), 1.0), max(float(lat.max()), 2.0)
        ax.hist(lat, bins=np.logspace(np.log10(lo), np.log10(hi), 50), color="tab:blue")
        ax.set_xscale("log")
        ax.set_xlabel("microseconds (log scale)")
    return fig
