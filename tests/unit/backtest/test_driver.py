"""The driver: the live QuoteEngine, limits and trading state over synthetic data."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from backtest.data import DataError, open_data
from backtest.driver import Backtest
from backtest.synth import synthesize
from conf.load import load

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    synthesize(d, hours=0.1, seed=7, sigma=5.0, a=1.0, k=0.1)
    return d


def run(data, out, *sets, twin=False):
    c = load(None, list(sets))
    return Backtest(c, twin=twin, out=out).run(open_data(data, int(c.backtest.feed_latency_ms * 1e6)))


def test_the_same_data_and_configuration_give_byte_identical_outputs(synthetic, tmp_path):
    run(synthetic, tmp_path / "a")
    run(synthetic, tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


@pytest.mark.parametrize("sets", [(), ("gateway.mass_quote=false", "backtest.entry_latency_ms=120")],
                         ids=["mass-quote", "insert-amend"])
def test_the_compiled_core_and_the_twin_make_the_same_run(tmp_path, sets):
    synthesize(tmp_path / "d", hours=0.02, seed=3)
    run(tmp_path / "d", tmp_path / "a", *sets)
    run(tmp_path / "d", tmp_path / "b", *sets, twin=True)
    for name in ("fills.csv", "orders.csv", "quotes.csv", "pnl.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("mass_quote", ["true", "false"])
def test_an_order_never_has_two_requests_on_their_way(synthetic, tmp_path, mass_quote):
    # Answers take 300 ms round trip while the book moves every 100 ms: new ladders keep coming
    # while requests are unanswered; each order waits for its answer before the next request.
    s = run(synthetic, tmp_path, f"gateway.mass_quote={mass_quote}", "backtest.entry_latency_ms=150",
            "backtest.response_latency_ms=150")
    waiting, later = {}, 0
    with open(tmp_path / "orders.csv", newline="") as f:
        for r in csv.DictReader(f):
            oid = r["client_order_id"]
            if r["event"] in ("insert", "amend", "cancel"):
                assert not waiting.get(oid), f"order {oid}: {r['event']} at {r['time_ns']} before its answer"
                waiting[oid] = True
                later += r["event"] != "insert"
            elif r["event"] in ("ack", "amended", "cancelled", "reject"):
                waiting[oid] = False
    assert later > 100 and s["fills"] > 20
    if mass_quote == "false":
        assert s["orders"]["amend"] > 100


def test_the_estimators_recover_the_synthetic_truth(synthetic, tmp_path):
    s = run(synthetic, tmp_path / "r")
    assert s["fills"] > 20
    assert s["sigma"] == pytest.approx(5.0, rel=0.2)
    assert s["intensity_a"] == pytest.approx(1.0, rel=0.3)
    assert s["intensity_k"] == pytest.approx(0.1, rel=0.3)


def test_a_stop_loss_halts_quoting_as_live_and_orders_stop(synthetic, tmp_path):
    s = run(synthetic, tmp_path / "h", "risk.stop_loss=0.5", "risk.max_drawdown=0.5")
    assert s["trading_state"] == "HALTED"
    orders = (tmp_path / "h" / "orders.csv").read_text().splitlines()[1:]
    pnl = [r.split(",") for r in (tmp_path / "h" / "pnl.csv").read_text().splitlines()[1:]]
    halted_at = next(int(r[0]) for r in pnl if r[1] == "HALTED")
    inserts_after = [r for r in orders if r.split(",")[1] == "insert" and int(r.split(",")[0]) > halted_at]
    assert not inserts_after


def test_position_limit_holds_counting_open_orders(synthetic, tmp_path):
    run(synthetic, tmp_path / "p", "risk.max_position=0.004")
    fills = [r.split(",") for r in (tmp_path / "p" / "fills.csv").read_text().splitlines()[1:]]
    assert fills and max(abs(float(r[7])) for r in fills) <= 0.004 + 1e-9


def test_bin_mm_report_reads_a_backtest_run_directory(synthetic, tmp_path):
    run(synthetic, tmp_path / "rep")
    out = subprocess.run([sys.executable, "-m", "report", str(tmp_path / "rep"), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert figures["fills"] == summary["fills"] > 0
    assert figures["orders_placed"] > 0 and (tmp_path / "rep" / "report" / "pnl.png").exists()
    # A quote step takes no simulated time: no md -> quote figure rather than a measured-looking 0.
    with open(tmp_path / "rep" / "quotes.csv", newline="") as f:
        assert {r["latency_ns"] for r in csv.DictReader(f)} == {""}
    assert "md_to_quote_p50_us" not in figures


def test_bad_data_is_refused_with_the_file_the_line_and_the_value(tmp_path):
    (tmp_path / "depth.csv").write_text("ts_ns,side,price,qty\n1,bid,100,1\n2,middle,100,1\n")
    with pytest.raises(DataError, match=r"depth.csv line 3: side='middle'"):
        list(open_data(tmp_path, 0))
