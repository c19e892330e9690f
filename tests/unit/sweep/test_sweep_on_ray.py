"""bin/mm-sweep on a local Ray (2 CPUs, no dashboard) over 2.5 minutes of synthetic data: each run
equals bin/mm-backtest with the same settings, walk-forward ranks on train and scores on test,
a rerun resumes, a failing run is recorded, Ctrl-C keeps what finished."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ray  # noqa: E402  (bin/test installs the "sweep" group on first use)

from backtest.__main__ import main as backtest_main  # noqa: E402
from backtest.entry import feed_latency_ns, run_backtest  # noqa: E402
from backtest.data import open_data  # noqa: E402
from backtest.synth import synthesize  # noqa: E402
from conf.load import load  # noqa: E402
from sweep import metrics  # noqa: E402
from sweep.run import SweepArgs, sweep  # noqa: E402
from sweep.window import cut, split  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
GRID = ["quoter.gamma=0.01,0.2", "quoter.levels=2,5"]
FIGURES = ["pnl_usd", "pnl_per_hour_usd", "sharpe", "fills", "fill_ratio", "max_drawdown_usd",
           "inventory_std", "time_active_s", "time_reducing_s", "time_halted_s", "events"]


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray's workers run at niceness 15; on a machine shared with other work the tests' runs
    # would crawl behind it. This Ray (and the Ctrl-C test's own, which inherits it) uses 0.
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    synthesize(d, hours=2.5 / 60, seed=5)
    return d


def direct(data, sets, out, capsys, config=None):
    """bin/mm-backtest itself (its main(), in this process): the summary it prints."""
    capsys.readouterr()
    argv = [str(data), "--out", str(out), "--json"] + [a for s in sets for a in ("--set", s)]
    assert backtest_main(argv + (["--config", str(config)] if config else [])) == 0
    return json.loads(capsys.readouterr().out)


def same(a, b, keys=FIGURES):
    for k in keys:
        x, y = a[k], b[k]
        assert (x != x and y != y) or x == y, (k, x, y)


def test_every_run_of_a_grid_equals_bin_mm_backtest_with_the_same_settings(local_ray, data, tmp_path, capsys):
    result = sweep(SweepArgs(data=data, grid=GRID, objective="pnl_usd", out=tmp_path / "s", keep_runs=True,
                             stream=sys.stderr))
    assert result.executed == 4 and len(result.rows) == 4
    assert {r["status"] for r in result.rows} == {"ok"}
    for row in result.rows:
        sets = row["overrides"].split(" ")
        summary = direct(data, sets, tmp_path / row["run_id"], capsys)
        assert row["fills"] == summary["fills"] > 0 and row["pnl_usd"] == summary["equity_usd"]
        same(row, metrics.from_run(tmp_path / row["run_id"], summary))
        swept = tmp_path / "s" / "runs" / row["run_id"]      # the task's run directory, kept
        for f in sorted((tmp_path / row["run_id"]).iterdir()):
            assert f.read_bytes() == (swept / f.name).read_bytes(), (row["overrides"], f.name)
    # ranked best first on the objective; the best set written as a file bin/mm-backtest reads
    pnl = [r["pnl_usd"] for r in result.rows]
    assert pnl == sorted(pnl, reverse=True) and [r["train_rank"] for r in result.rows] == [1, 2, 3, 4]
    best = direct(data, [], tmp_path / "best", capsys, tmp_path / "s" / "best.toml")
    assert best["equity_usd"] == result.rows[0]["pnl_usd"]
    same(result.rows[0], metrics.from_run(tmp_path / "best", best))
    for name in ("results.parquet", "results.csv", "heatmap.png", "ranking.png", "summary.json"):
        assert (tmp_path / "s" / name).stat().st_size > 0, name
    assert (tmp_path / "s" / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    import pyarrow.parquet as pq
    table = pq.read_table(tmp_path / "s" / "results.parquet").to_pylist()
    assert [r["run_id"] for r in table] == [r["run_id"] for r in result.rows]
    assert table[0]["quoter.gamma"] == result.rows[0]["quoter.gamma"] and table[0]["sharpe"] == result.rows[0]["sharpe"]


def test_walk_forward_ranks_on_the_training_window_and_scores_the_chosen_on_the_test_window(
        local_ray, data, tmp_path):
    result = sweep(SweepArgs(data=data, grid=GRID, objective="pnl_usd", split=0.5, top=2, out=tmp_path / "wf",
                             stream=sys.stderr))
    train = [r for r in result.rows if r["part"] == "train"]
    test = [r for r in result.rows if r["part"] == "test"]
    assert len(train) == 4 and len(test) == 2
    by_pnl = sorted(train, key=lambda r: -r["pnl_usd"])
    assert [r["overrides"] for r in test] == [r["overrides"] for r in by_pnl[:2]]
    assert [r["train_rank"] for r in test] == [1, 2]
    # each test figure is a backtest of the test window alone, started fresh
    t0 = min(int(c["exch_ts"].min()) for c in open_data(data, 0))
    t1 = max(int(c["exch_ts"].max()) for c in open_data(data, 0))
    _, test_window = split(0.5, t0, t1)
    for row in test:
        sets = row["overrides"].split(" ")
        config = load(None, sets)
        events = cut(list(open_data(data, feed_latency_ns(config))), test_window)
        s = run_backtest(events, sets, tmp_path / ("t" + row["run_id"]))
        assert row["fills"] == s["fills"] and row["pnl_usd"] == s["equity_usd"]
        assert s["simulated_s"] < 0.55 * 150
    best = result.summary["best"]
    assert best["overrides"] == by_pnl[0]["overrides"]
    assert best["train"]["pnl_usd"] == by_pnl[0]["pnl_usd"] and best["test"]["pnl_usd"] == test[0]["pnl_usd"]


def test_a_rerun_skips_finished_runs_and_runs_only_the_new_ones(local_ray, data, tmp_path):
    out = tmp_path / "r"
    first = sweep(SweepArgs(data=data, grid=GRID, objective="pnl_usd", out=out, stream=sys.stderr))
    again = sweep(SweepArgs(data=data, grid=GRID, objective="pnl_usd", out=out, stream=sys.stderr))
    assert again.executed == 0 and again.rows == first.rows
    wider = sweep(SweepArgs(data=data, grid=["quoter.gamma=0.01,0.2,0.05", "quoter.levels=2,5"], objective="pnl_usd",
                            out=out, stream=sys.stderr))
    assert wider.executed == 2 and len(wider.rows) == 6
    old = {r["run_id"]: r for r in first.rows}
    for r in wider.rows:
        if r["run_id"] in old:
            assert r["wall_s"] == old[r["run_id"]]["wall_s"]          # the journal's row, not a new run
    assert len((out / "runs.jsonl").read_text().splitlines()) == 6


def test_a_run_that_raises_is_recorded_with_its_error_and_the_others_finish(local_ray, data, tmp_path):
    result = sweep(SweepArgs(data=data, grid=["quoter.levels=2,50,5"], objective="pnl_usd", out=tmp_path / "f",
                             stream=sys.stderr))
    status = {r["quoter.levels"]: r for r in result.rows}
    assert status[2]["status"] == status[5]["status"] == "ok"
    bad = status[50]
    assert bad["status"] == "failed" and bad["train_rank"] is None and bad.get("pnl_usd") is None
    assert bad["error"].startswith("ConfigError: quoter.levels=50 in ") and "1..10" in bad["error"]
    assert result.summary["runs"]["failed"] == 1 and result.rows[-1] is bad
    csv_text = (tmp_path / "f" / "results.csv").read_text()
    assert "ConfigError: quoter.levels=50" in csv_text


def test_ctrl_c_keeps_the_finished_runs_and_the_same_command_resumes(local_ray, data, tmp_path):
    out = tmp_path / "c"
    grid = ["quoter.gamma=0.01,0.02,0.05,0.1,0.2,0.5", "quoter.levels=2,5"]
    argv = [str(data), "--objective", "pnl_usd", "--workers", "1", "--out", str(out)] + \
        [a for g in grid for a in ("--grid", g)]
    proc = subprocess.Popen([sys.executable, "-m", "sweep", *argv], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = out / "runs.jsonl"
    try:
        deadline = time.monotonic() + 60
        while not (journal.exists() and journal.read_text().count("\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)               # what a terminal's Ctrl-C does
        stdout, stderr = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert "the same command resumes" in stderr
    # Runs, not lines: a run whose worker the Ctrl-C reached may be journaled again by a retry
    # (the later line wins, sweep/journal.py).
    kept = len({json.loads(line)["run_id"] for line in journal.read_text().splitlines()})
    assert 1 <= kept < 12
    with open(out / "results.csv", newline="") as f:     # rows, not lines: an error text may span lines
        rows = list(csv.DictReader(f))
    assert len(rows) == kept, [(r["run_id"], r["status"], r.get("error", "")[:80]) for r in rows]
    resumed = sweep(SweepArgs(data=data, grid=grid, objective="pnl_usd", out=out, stream=sys.stderr))
    assert resumed.executed == 12 - kept and len(resumed.rows) == 12
