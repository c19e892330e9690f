"""bin/mm run against the embedded local exchange: real processes, real sockets, real rings.

One pipeline serves the tests of this module in order (start-up costs seconds); the tests that
need a fresh one start their own. Every test has a hard timeout.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from testkit.pipeline import ROOT, Pipeline
from runtime.timeslice import current_slice_us
from conf.schema import PIPELINE

pytestmark = pytest.mark.timeout(120)
BTC = "BTC-PERPETUAL"


def slices_hold(status) -> bool:
    """Each process runs with the time slice its configuration asks for (conf/schema.py PIPELINE:
    the latency path 100 us, risk and the recorder the kernel's default), where the kernel gives
    custom slices (runtime/timeslice.py); where it does not, every slice reads as unknown."""
    by = {p["name"]: p["slice_us"] for p in status["processes"]}
    default = current_slice_us()
    if default is None:
        return all(v is None for v in by.values())
    return by == {p.name: p.defaults.slice_us or default for p in PIPELINE}


@pytest.fixture(scope="module")
def mm(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("mm"))
    yield pipeline
    code = pipeline.stop()
    assert code == 0, pipeline.output()
    assert pipeline.leftovers() == []


def exchange_position(mm) -> float:
    return sum(p["position"] for p in mm.exchange_state()["portfolio"] if p["instrument_name"] == BTC)


def test_it_quotes_both_sides_and_gets_fills(mm):
    status = mm.wait(lambda s: s["quoting"] and s["fills"] > 0, 30, "quoting with fills")
    orders = mm.exchange_state()["open_orders"]
    sides = {o["direction"] for o in orders}
    assert sides == {"buy", "sell"} or status["positions"][BTC] != 0
    assert status["trading_state"] in ("ACTIVE", "REDUCING")
    assert all(p["alive"] for p in status["processes"])
    assert slices_hold(status), status["processes"]


def test_our_position_equals_the_exchange_portfolio(mm):
    mm.wait(lambda s: s["fills"] > 0, 30, "fills")
    for _ in range(50):   # fills keep arriving: compare at a moment when both agree within 1 s
        ours = mm.ctl("status")["positions"][BTC]
        theirs = exchange_position(mm)
        if abs(ours - theirs) < 1e-9:
            return
        time.sleep(0.1)
    pytest.fail(f"position {ours} never matched the exchange's {theirs}")


def test_pause_pulls_the_quotes_and_resume_brings_them_back(mm):
    mm.ctl("pause")
    mm.wait(lambda s: not s["quoting"], 10, "quotes pulled")
    assert mm.exchange_state()["open_orders"] == []
    mm.ctl("resume")
    mm.wait(lambda s: s["quoting"] and not s["paused"], 15, "quoting again")
    assert mm.exchange_state()["open_orders"]


def test_mmctl_prints_status_and_refuses_unknown_commands(mm):
    out = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "status"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "BTC-PERPETUAL" in out.stdout and "gateway" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "explode"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "unknown command 'explode'" in bad.stderr
    wrong = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "set",
                            "quoter.levels=99"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert wrong.returncode == 1 and "quoter.levels=99" in wrong.stderr


def test_a_live_parameter_change_reaches_the_quoter(mm):
    mm.ctl("set", **{"quoter.levels": 2})
    def two_levels(_):
        orders = mm.exchange_state()["open_orders"]
        return orders and max(sum(o["direction"] == d for o in orders) for d in ("buy", "sell")) <= 2
    mm.wait(two_levels, 20, "two levels a side")
    mm.ctl("set", **{"quoter.levels": 5})


@pytest.mark.parametrize("name", ["feed", "quoter", "risk", "gateway", "recorder"])
def test_a_sigkilled_process_is_restarted_and_quoting_resumes(mm, name):
    before = {p["name"]: p for p in mm.ctl("status")["processes"]}[name]
    os.kill(before["pid"], signal.SIGKILL)
    status = mm.wait(lambda s: {p["name"]: p for p in s["processes"]}[name]["restarts"] > before["restarts"]
                     and all(p["alive"] for p in s["processes"]), 20, f"{name} restarted")
    assert {p["name"]: p for p in status["processes"]}[name]["pid"] != before["pid"]
    mm.wait(lambda s: {p["name"]: p for p in s["processes"]}[name]["slice_us"] == before["slice_us"], 20,
            f"{name} asks for its time slice again")
    mm.wait(lambda s: s["quoting"] and s["connected"], 30, "quoting after the restart")
    mm.wait(lambda s: abs(s["positions"][BTC] - exchange_position(mm)) < 1e-9, 20, "position reconciled")


@pytest.mark.parametrize("scope", ["public", "private"])
def test_a_dropped_connection_is_survived(mm, scope):
    mm.wait(lambda s: s["quoting"], 20, "quoting")
    assert mm.sim("sim/drop_connections", scope=scope)["dropped"] >= 1
    if scope == "private":
        mm.wait(lambda s: not s["connected"] or not s["quoting"], 10, "the drop noticed")
    mm.wait(lambda s: s["quoting"] and s["connected"] and not s["md_stale"], 30, "quoting again")


def test_halt_pulls_everything_and_flatten_closes_the_position(mm):
    mm.ctl("halt")
    mm.wait(lambda s: s["trading_state"] == "HALTED" and not s["quoting"], 15, "halted")
    assert mm.exchange_state()["open_orders"] == []
    mm.ctl("resume")
    mm.wait(lambda s: s["fills"] > 0 and abs(s["positions"][BTC]) >= 0.001, 30, "a position to flatten")
    mm.ctl("flatten")
    mm.wait(lambda s: s["trading_state"] == "HALTED" and abs(s["positions"][BTC]) < 1e-9, 20, "flat")
    assert abs(exchange_position(mm)) < 1e-9


def test_a_bad_configuration_is_refused_before_anything_starts(tmp_path):
    out = subprocess.run([sys.executable, "-m", "runtime.main", "run", "--set", "risk.max_position=-1",
                          "--set", f"recorder.dir={tmp_path}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "risk.max_position=-1.0 in" in out.stderr and "must be within" in out.stderr
    assert not list(tmp_path.iterdir())   # no run directory, no exchange, no process


def test_the_position_limit_holds_while_the_market_trends_hard(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.max_position=0.01",
                  "--set", "quoter.base_size=0.002", "--set", "venue.sim_seed=5")
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        mm.sim("sim/options", flow_rate=20.0)
        mm.sim("sim/trend", usd_per_s=-40.0, seconds=8.0)   # everyone sells into our bids
        worst = 0.0
        deadline = time.monotonic() + 8.0
        while time.monotonic() < deadline:
            worst = max(worst, abs(exchange_position(mm)))
            time.sleep(0.05)
        status = mm.ctl("status")
        assert worst > 0.004, "the trend never filled us: the test proved nothing"
        assert worst <= 0.01 + 1e-9, f"exchange position reached {worst} > max_position 0.01"
        assert abs(status["positions"][BTC]) <= 0.01 + 1e-9
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []


def test_without_mass_quotes_the_ladder_is_kept_with_insert_amend_cancel(tmp_path):
    mm = Pipeline(tmp_path, "--set", "gateway.mass_quote=false", "--set", "quoter.levels=3")
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        def a_ladder(_):
            orders = mm.exchange_state()["open_orders"]
            by_side = {d: [o for o in orders if o["direction"] == d] for d in ("buy", "sell")}
            return all(1 <= len(v) <= 3 for v in by_side.values()) and \
                all(not o.get("persistent", True) for o in orders)
        mm.wait(a_ladder, 20, "three levels a side as single orders")
        mm.wait(lambda s: s["fills"] > 0, 40, "fills")
        mm.ctl("pause")
        mm.wait(lambda s: not mm.exchange_state()["open_orders"], 15, "every order cancelled")
        mm.ctl("resume")
        mm.wait(a_ladder, 20, "quoting again")
        mm.wait(lambda s: abs(s["positions"][BTC] - exchange_position(mm)) < 1e-9, 10, "positions agree")
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []
