"""bin/mm record against the local exchange: a few seconds of public data captured in rotating
directories, one dropped connection marked as a gap, and the capture backtested (the quoter pulls
at the gap and quotes nothing until the book is back)."""
import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backtest.data import open_data
from backtest.driver import Backtest
from conf.load import load
from testkit.exchange import running_sim

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(180)


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    out = tmp_path_factory.mktemp("capture")
    with running_sim(seed=5, volatility=5.0, flow_rate=6.0, tick_interval=0.05) as sim:
        proc = subprocess.Popen([sys.executable, "-m", "runtime.main", "record", "--set", f"venue.url={sim.url}",
                                 "--set", "venue.reconnect_min_s=0.3", "--out", str(out), "--seconds", "9",
                                 "--rotate-s", "3"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(4.0)
            dropped = sim.call("sim/drop_connections", {"scope": "public"})["result"]["dropped"]
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    assert dropped == 1
    return out, stdout


def test_the_capture_rotates_and_holds_every_public_channel(capture):
    out, stdout = capture
    assert "2 connection(s), 1 gap(s)" in stdout
    periods = sorted((out / "BTC-PERPETUAL").iterdir())
    assert len(periods) >= 3                                       # 9 s in 3 s directories
    for d in periods:
        depth = rows(d / "depth.csv")
        assert depth[0]["side"] == "clear"                         # every hour stands alone
        assert [int(r["ts_ns"]) for r in depth] == sorted(int(r["ts_ns"]) for r in depth)
    everything = {kind: sum((rows(d / f"{kind}.csv") for d in periods), []) for kind in ("depth", "trades", "ticker", "index")}
    assert len(everything["trades"]) > 10 and {r["side"] for r in everything["trades"]} <= {"buy", "sell"}
    assert len(everything["ticker"]) > 50 and len(everything["index"]) > 50
    assert all(r["index_name"] == "BTCUSD" for r in everything["index"])


def test_a_dropped_connection_is_a_gap_in_the_files(capture):
    out, _ = capture
    gaps = rows(out / "gaps.csv")
    assert len(gaps) == 1 and int(gaps[0]["end_ns"]) > int(gaps[0]["start_ns"])
    start = int(gaps[0]["start_ns"])
    depth = sum((rows(d / "depth.csv") for d in sorted((out / "BTC-PERPETUAL").iterdir())), [])
    clears = [int(r["ts_ns"]) for r in depth if r["side"] == "clear"]
    assert start in clears                                         # written the moment it was lost
    after = [r for r in depth if int(r["ts_ns"]) > start]
    assert after and after[0]["side"] == "clear"                   # the next data is a new snapshot


def test_the_capture_backtests_and_the_quoter_stops_across_the_gap(capture, tmp_path):
    out, _ = capture
    c = load(None, [])
    summary = Backtest(c, out=tmp_path).run(open_data(out / "BTC-PERPETUAL", int(c.backtest.feed_latency_ms * 1e6)))
    assert summary["events"] > 1000 and summary["orders"]["insert"] > 0
    start = int(rows(out / "gaps.csv")[0]["start_ns"])
    depth = sum((rows(d / "depth.csv") for d in sorted((out / "BTC-PERPETUAL").iterdir())), [])
    back = next(int(r["ts_ns"]) for r in depth if int(r["ts_ns"]) > start and r["side"] == "clear")
    quotes = rows(tmp_path / "quotes.csv")
    assert any(r["kind"] == "pull" and start <= int(r["time_ns"]) <= back + 10_000_000 for r in quotes)
    orders = rows(tmp_path / "orders.csv")
    assert any(r["event"] == "insert" and int(r["time_ns"]) < start for r in orders)
    assert not [r for r in orders if r["event"] == "insert" and start + 10_000_000 < int(r["time_ns"]) < back]
