"""bin/mm-report on a real recorded paper run: every file, and figures that match the CSVs."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from testkit.pipeline import ROOT, Pipeline

pytestmark = pytest.mark.timeout(150)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    mm = Pipeline(tmp)
    try:
        mm.wait(lambda s: s["fills"] >= 5, 60, "some fills")
        watch = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "watch",
                                "--count", "2", "--interval", "0.2"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30)
        assert watch.returncode == 0 and watch.stdout.count("venue      ") == 2, watch.stdout
        run = mm.ctl("status")["run_dir"]
    finally:
        assert mm.stop() == 0
    from pathlib import Path
    return Path(run)


def test_the_run_directory_keeps_its_metrics_and_configuration(run_dir):
    for name in ("md", "quotes", "fills", "orders", "pnl", "latency", "counters", "trades"):
        assert rows(run_dir / f"{name}.csv"), f"{name}.csv is empty"
    assert json.loads((run_dir / "settings.json").read_text())["venue"]["instruments"] == ["BTC-PERPETUAL"]


def test_the_report_writes_every_file_and_its_figures_match_the_csvs(run_dir, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "report", str(run_dir), "--out", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("price", "inventory", "pnl", "spread", "estimators", "latency"):
        assert (out / f"{name}.png").stat().st_size > 5_000
    assert "<table>" in (out / "index.html").read_text()
    figures = json.loads(proc.stdout)
    fills, pnl, orders = rows(run_dir / "fills.csv"), rows(run_dir / "pnl.csv"), rows(run_dir / "orders.csv")
    assert figures["fills"] == len(fills) > 0
    assert figures["volume_contracts"] == pytest.approx(sum(float(r["amount"]) for r in fills))
    assert figures["pnl_usd"] == pytest.approx(float(pnl[-1]["equity"]))
    assert figures["fees_usd"] == pytest.approx(float(pnl[-1]["fees"]))
    acks = sum(r["event"] == "ack" for r in orders)
    assert figures["orders_placed"] == acks and figures["fill_ratio"] == pytest.approx(len(fills) / acks)
    equity = np.array([float(r["equity"]) for r in pnl])
    assert figures["max_drawdown_usd"] == pytest.approx(float(np.max(np.maximum.accumulate(
        np.concatenate(([0.0], equity)))[1:] - equity)))
    assert figures["inventory_std_contracts"] == pytest.approx(np.std([float(r["position"]) for r in pnl]))
    assert sum(figures["time_in_state_s"].values()) == pytest.approx(
        (int(pnl[-1]["time_ns"]) - int(pnl[0]["time_ns"])) / 1e9)


def test_with_no_run_dir_the_latest_run_is_reported(run_dir, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "report", "--runs", str(run_dir.parent), "--out",
                           str(tmp_path / "latest")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and str(run_dir) in proc.stdout
