"""Quote controls end to end: fast cancel on a jump (not on quiet data), markouts under toxic
flow, take-profit and stop-loss orders, and logs that say what matters and no secrets."""
import re
import time
from pathlib import Path

import pytest

from testkit.pipeline import Pipeline, protection

pytestmark = pytest.mark.timeout(150)
BTC = "BTC-PERPETUAL"


@pytest.fixture(scope="module")
def mm(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("controls"), "--set", "risk.take_profit_distance=40",
                        *protection(5))
    yield pipeline
    assert pipeline.stop() == 0, pipeline.output()


def sells(mm):
    return [o for o in mm.exchange_state()["open_orders"] if o["direction"] == "sell" and o.get("label") != "tp"]


def test_quiet_markets_never_trigger_a_fast_cancel(mm):
    mm.wait(lambda s: s["quoting"], 20, "quoting")
    time.sleep(4.0)
    assert mm.ctl("status")["fast_cancels"] == 0


def test_a_jump_pulls_the_exposed_side_at_once(mm):
    mm.wait(lambda s: s["quoting"] and sells(mm), 20, "asks resting")
    mm.sim("sim/trend", usd_per_s=1000.0, seconds=0.25)          # +250 USD in two or three steps
    status = mm.wait(lambda s: s["fast_cancels"] >= 1, 10, "a fast cancel")
    assert status["guard"][BTC] in ("pull asks", "pull both")
    mm.wait(lambda s: not sells(mm), 5, "asks pulled on the exchange")
    latency = mm.wait(lambda s: s["latency_us"]["fast_cancels_sent"] >= 1, 10, "the cancel measured")["latency_us"]
    assert 0 < latency["fast_cancel_p50"] < 100_000                # market record -> cancel sent, us
    assert latency["trip_pulls"] >= 1          # the gateway's tripwire pulled first, one hop early
    mm.wait(lambda s: s["guard"][BTC] == "calm" and sells(mm), 20, "asks back once it settled")


def test_toxic_flow_shows_as_adverse_markouts_on_that_side(mm):
    mm.wait(lambda s: s["guard"][BTC] == "calm", 20, "calm")
    before = mm.ctl("status")["markouts"][BTC]["buys"]["1s"]
    before = 0.0 if before is None else before
    for _ in range(10):
        mm.sim("sim/trade", instrument=BTC, direction="sell", amount=0.002)   # we buy...
        mm.sim("sim/trend", usd_per_s=-20.0, seconds=1.2)                   # ...and it falls
        time.sleep(1.2)
    time.sleep(1.5)
    after = mm.ctl("status")["markouts"][BTC]["buys"]["1s"]
    assert after is not None and after < before - 3.0, (before, after)   # EWMA weight 0.05 per fill


def test_a_long_position_gets_a_resting_reduce_only_take_profit(mm):
    mm.wait(lambda s: s["positions"][BTC] != 0, 30, "a position")

    def tp_matches(s):
        pos = s["positions"][BTC]
        tps = [o for o in mm.exchange_state()["open_orders"] if o.get("label") == "tp"]
        return abs(pos) >= 0.001 and len(tps) == 1 and abs(tps[0]["remaining_amount"] - abs(pos)) < 1e-9 \
            and tps[0]["direction"] == ("sell" if pos > 0 else "buy") and tps[0].get("reduce_only")
    mm.wait(tp_matches, 20, "a take-profit sized like the position")


def test_logs_have_a_line_per_decision_and_no_secrets(mm):
    status = mm.ctl("status")
    logs = Path(status["run_dir"]) / "logs"
    text = {p.name: p.read_text() for p in logs.glob("*.log")}
    assert {"feed.log", "quoter.log", "risk.log", "gateway.log", "recorder.log"} <= set(text)
    line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR|DEBUG)\s+\w+\s+\S")
    for name, body in text.items():
        for row in body.splitlines() if name != "exchange.log" else ():   # the sim has its own format
            if row and not row.startswith((" ", "Traceback")):
                assert line.match(row), f"{name}: {row!r}"
        assert "PRIVATE KEY" not in body and not re.search(r"eyJ[\w-]{10,}\.", body), f"a secret in {name}"
    md_rows = sum(1 for _ in open(Path(status["run_dir"]) / "md.csv"))
    assert len(text["feed.log"].splitlines()) < 20 < md_rows          # never a line per market event
    assert "fast cancel" in text["quoter.log"]


def test_the_stop_loss_closes_the_position_when_the_mark_crosses_it(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss_distance=30", "--set", "risk.stop_loss=0",
                  "--set", "risk.max_drawdown=0", "--set", "quoter.fast_cancel=false")
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        for _ in range(3):
            mm.sim("sim/trade", instrument=BTC, direction="sell", amount=0.003)
        mm.wait(lambda s: s["positions"][BTC] > 0, 10, "a long position")
        mm.ctl("pause")                                     # no new quotes refill the position
        mm.sim("sim/trend", usd_per_s=-100.0, seconds=2.0)
        mm.wait(lambda s: abs(s["positions"][BTC]) < 1e-9, 20, "the stop closed the position")
        assert "stop-loss" in (Path(mm.ctl("status")["run_dir"]) / "logs" / "risk.log").read_text()
    finally:
        assert mm.stop() == 0, mm.output()
