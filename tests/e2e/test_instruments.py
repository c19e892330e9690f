"""Several instruments at once against the embedded local exchange: real processes, real sockets.

One pipeline quotes BTC-PERPETUAL and ETH-PERPETUAL together with the paper configuration's
sections (different gamma, levels, sizes and limits); a second quotes the BTC perpetual beside the
dated BTC future with a small net-delta limit. Every test has a hard timeout.
"""
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from control.mmctl import request
from sim.instruments import default_instruments
from testkit.pipeline import ROOT, Pipeline, protection

pytestmark = pytest.mark.timeout(150)
BTC, ETH = "BTC-PERPETUAL", "ETH-PERPETUAL"
FUTURE = next(name for name, i in default_instruments().items() if i.type == "future" and name.startswith("BTC"))


@pytest.fixture(scope="module")
def mm(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("mm2"), "--set", f"venue.instruments={BTC},{ETH}")
    yield pipeline
    code = pipeline.stop()
    assert code == 0, pipeline.output()
    assert pipeline.leftovers() == []


def orders_by(mm, name: str) -> dict:
    """The exchange's open orders of one instrument: {"buy": [...], "sell": [...]}."""
    orders = [o for o in mm.exchange_state()["open_orders"] if o["instrument_name"] == name]
    return {d: [o for o in orders if o["direction"] == d] for d in ("buy", "sell")}


def exchange_positions(mm) -> dict:
    return {p["instrument_name"]: p["position"] for p in mm.exchange_state()["portfolio"]}


def test_both_instruments_are_quoted_at_once_each_with_its_own_parameters(mm):
    status = mm.wait(lambda s: s["quoting"] and not s["not_quoting"], 30, "both instruments quoting")
    assert status["instruments"][ETH]["params"]["levels"] == 3 and status["instruments"][BTC]["params"]["levels"] == 5
    assert status["instruments"][ETH]["params"]["gamma"] != status["instruments"][BTC]["params"]["gamma"]
    seen = {BTC: 0, ETH: 0}

    def ladders(_):
        for name in (BTC, ETH):
            by_side = orders_by(mm, name)
            seen[name] = max(seen[name], *(len(v) for v in by_side.values()))
            assert seen[ETH] <= 3, f"ETH rests {seen[ETH]} orders a side: its section says 3 levels"
            for o in by_side["buy"] + by_side["sell"]:
                if name == ETH:   # ETH sizes from its section, on the exchange's 0.01 amount tick
                    assert o["amount"] >= 0.01 - 1e-9 and abs(o["amount"] / 0.01 - round(o["amount"] / 0.01)) < 1e-6
                    assert abs(o["price"] / 0.1 - round(o["price"] / 0.1)) < 1e-6   # ETH tick 0.1 USD
                else:
                    assert o["amount"] < 0.01, "a BTC order the size of ETH's"
        return seen[BTC] >= 4 and seen[ETH] >= 1
    mm.wait(ladders, 30, "BTC with its five levels and ETH with its three")


def test_each_position_equals_the_exchanges(mm):
    mm.wait(lambda s: all(i["fills"] > 0 for i in s["instruments"].values()), 60, "fills on both instruments")
    for _ in range(60):   # fills keep arriving: compare at a moment when both agree
        ours = mm.ctl("status")["positions"]
        theirs = exchange_positions(mm)
        if all(abs(ours[n] - theirs.get(n, 0.0)) < 1e-9 for n in (BTC, ETH)):
            status = mm.ctl("status")
            assert sum(i["fills"] for i in status["instruments"].values()) == status["fills"]
            return
        time.sleep(0.1)
    pytest.fail(f"positions {ours} never matched the exchange's {theirs}")


def test_set_on_one_instrument_leaves_the_other_alone(mm):
    before = mm.ctl("status")["instruments"]
    reply = mm.ctl("set", **{f"{ETH}.levels": 1, f"{ETH}.gamma": 2.0})
    assert reply["changed"] == {f"{ETH}.levels": 1, f"{ETH}.gamma": 2.0}
    after = mm.ctl("status")["instruments"]
    assert after[ETH]["params"]["levels"] == 1 and after[ETH]["params"]["gamma"] == 2.0
    assert after[BTC]["params"] == before[BTC]["params"]
    btc_levels = []

    def one_eth_level(_):
        eth, btc = orders_by(mm, ETH), orders_by(mm, BTC)
        btc_levels.append(max(len(v) for v in btc.values()))
        return 0 < max(len(v) for v in eth.values()) <= 1 and btc_levels[-1] >= 4
    mm.wait(one_eth_level, 30, "one ETH level a side while BTC keeps its five")
    log = (Path(mm.ctl("status")["run_dir"]) / "logs" / "quoter.log").read_text()
    changes = [line for line in log.splitlines() if "parameters of" in line]
    assert changes and all(BTC not in line for line in changes), changes
    mm.ctl("set", **{f"{ETH}.levels": 3, f"{ETH}.gamma": 1.5})


def test_a_set_to_an_instrument_not_traded_or_to_its_risk_limits_is_refused(mm):
    for key, message in ((f"{ETH}.max_position", "risk limits need a restart"),
                         ("XRP-PERPETUAL.gamma", "traded: BTC-PERPETUAL, ETH-PERPETUAL"),
                         (f"{ETH}.levels", "must be within 1..10")):
        reply = request(mm.endpoint, "set", {key: 0.5 if "levels" not in key else 11}, 10.0)
        assert not reply["ok"] and message in reply["error"], reply


def scrape(mm) -> dict:
    """/metrics parsed with Prometheus's own text parser: {(name, labels): value}."""
    text = urllib.request.urlopen(mm.metrics_url, timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_scraped_during_the_run_parse_and_equal_mmctl_status(mm):
    assert f"prometheus metrics {mm.metrics_url}" in mm.output()
    mm.wait(lambda s: s["quoting"] and all(i["fills"] > 0 for i in s["instruments"].values()), 60, "fills")
    live = scrape(mm)      # while quoting: histograms have samples, everything parses
    assert live[("thalex_mm_md_to_quote_seconds_count", ())] > 0
    assert live[("thalex_mm_md_to_send_seconds_count", ())] > 0
    assert live[("thalex_mm_instrument_quoting", (("instrument", ETH),))] in (0.0, 1.0)
    # Paused, nothing trades: fills and positions hold still and must be equal to the figure;
    # marks keep moving, so what is marked to them is compared to within a cent of USD; the
    # quoter keeps publishing (risk pulls), so its counters must lie between two scrapes.
    mm.ctl("pause")
    try:
        mm.wait(lambda s: not s["quoting"] and all(i["open_bid"] == 0 == i["open_ask"]
                                                   for i in s["instruments"].values()), 15, "paused")
        time.sleep(0.5)
        m = scrape(mm)
        s = mm.ctl("status")
        after = scrape(mm)
        out = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "--json",
                              "status"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0
        for name, i in s["instruments"].items():
            label = (("instrument", name),)
            assert m[("thalex_mm_instrument_position_contracts", label)] == i["position"]
            assert m[("thalex_mm_instrument_fills_total", label)] == i["fills"]
            for key, figure in (("quotes_published_total", "quotes_published"), ("fast_cancels_total", "fast_cancels")):
                name_ = f"thalex_mm_instrument_{key}"
                assert m[(name_, label)] <= i[figure] <= after[(name_, label)], (key, m[(name_, label)], i[figure])
            for side in ("bid", "ask"):
                assert m[("thalex_mm_instrument_open_orders_contracts", (("instrument", name), ("side", side)))] == 0.0
            assert m[("thalex_mm_instrument_mark_usd", label)] == pytest.approx(i["mark"], rel=1e-3)
        assert m[("thalex_mm_fills_total", ())] == s["fills"]
        for key, figure in (("realised_pnl_usd", "realised"), ("fees_usd", "fees")):
            assert m[(f"thalex_mm_{key}", ())] == pytest.approx(s["pnl"][figure], abs=1e-9)
        for key, figure in (("equity_usd", "equity"), ("unrealised_pnl_usd", "unrealised")):
            assert m[(f"thalex_mm_{key}", ())] == pytest.approx(s["pnl"][figure], abs=0.01 + 1e-3 * abs(s["pnl"][figure]))
        for u, d in s["portfolio"]["net_delta_usd"].items():
            assert m[("thalex_mm_net_delta_usd", (("underlying", u),))] == pytest.approx(d, rel=1e-3, abs=0.01)
        assert m[("thalex_mm_trading_state", (("thalex_mm_trading_state", s["trading_state"]),))] == 1.0
        assert m[("thalex_mm_paused", ())] == 1.0 and m[("thalex_mm_quoting", ())] == 0.0
        for p in s["processes"]:
            label = (("process", p["name"]),)
            assert m[("thalex_mm_process_up", label)] == (1.0 if p["alive"] else 0.0)
            assert m[("thalex_mm_process_restarts_total", label)] == p["restarts"]
            assert m[("thalex_mm_process_errors_total", label)] == p["errors"]
            assert m[("thalex_mm_process_heartbeat_age_seconds", label)] < 1.0
        assert json.loads(out.stdout)["fills"] == m[("thalex_mm_fills_total", ())]
    finally:
        mm.ctl("resume")
    mm.wait(lambda s: s["quoting"], 20, "quoting again")


def test_mmctl_status_shows_each_instrument_and_the_portfolio(mm):
    out = subprocess.run([sys.executable, "-m", "control.mmctl", "--endpoint", mm.endpoint, "status"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "portfolio  net delta BTCUSD" in out.stdout and "ETHUSD" in out.stdout
    rows = [line for line in out.stdout.splitlines() if line.startswith("position")]
    assert [r.split()[1] for r in rows] == [BTC, ETH]
    assert "levels=3" in rows[1] and "levels=5" in rows[0]


LIMIT = 1500.0


def test_a_btc_delta_limit_reached_through_the_future_makes_the_perpetual_reduce(tmp_path):
    # 1500 USD of net BTC delta: REDUCING from 1200 USD, about 0.012 BTC at 100,000 USD. The limit
    # counts the orders resting on both instruments (the perpetual's 0.001 BTC bid is ~100 USD):
    # a smaller one left no whole 0.001 BTC of room below the band, and the band was never reached.
    mm = Pipeline(tmp_path, "--set", f"venue.instruments={BTC},{FUTURE}", "--set", f"risk.max_net_delta_usd={LIMIT}",
                  *protection(10))
    try:
        mm.wait(lambda s: s["quoting"] and not s["not_quoting"], 30, "both quoting")
        mm.sim("sim/options", flow_rate=0.0)      # only our sweeps below trade
        mm.wait(lambda s: orders_by(mm, BTC)["buy"] and orders_by(mm, BTC)["sell"], 20, "the perpetual quoting both sides")
        assert mm.ctl("status")["trading_state"] == "ACTIVE"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s = mm.ctl("status")
            if s["trading_state"] == "REDUCING":
                break
            mm.sim("sim/trade", instrument=FUTURE, direction="sell", amount=4.0)   # sweeps into our future bids
            time.sleep(0.7)
        s = mm.wait(lambda s: s["trading_state"] == "REDUCING", 10, "REDUCING on the BTC net delta")
        assert s["reason"] == "net delta BTCUSD", s["reason"]
        assert s["positions"][FUTURE] > 0 and s["positions"][BTC] == 0.0, s["positions"]
        assert s["portfolio"]["net_delta_usd"]["BTCUSD"] >= 0.8 * LIMIT * 0.9

        def perpetual_only_sells(_):
            by_side = orders_by(mm, BTC)
            return by_side["sell"] and not by_side["buy"]
        mm.wait(perpetual_only_sells, 20, "the perpetual quoting only the side that reduces BTC delta")
        for _ in range(10):   # and it stays so while the delta is beyond the band
            assert not orders_by(mm, BTC)["buy"], "the perpetual bid although BTC delta is at its band"
            time.sleep(0.2)
        theirs = exchange_positions(mm)
        mm.wait(lambda s: abs(s["positions"][FUTURE] - theirs.get(FUTURE, 0.0)) < 1e-9, 10, "the future's position agrees")
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []


def test_the_report_shows_each_instrument_and_the_portfolio(mm):
    mm.wait(lambda s: all(i["fills"] > 0 for i in s["instruments"].values()), 60, "fills on both")
    run_dir = Path(mm.ctl("status")["run_dir"])
    time.sleep(2.5)     # the recorder samples and flushes every second
    out = subprocess.run([sys.executable, "-m", "report", str(run_dir), "--out", str(run_dir / "report"), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    per = figures["instruments"]
    assert set(per) == {BTC, ETH}
    assert all(per[n]["fills"] > 0 and per[n]["ladders_published"] > 0 for n in (BTC, ETH))
    assert sum(per[n]["fills"] for n in (BTC, ETH)) == figures["fills"]
    assert set(figures["portfolio"]["net_delta_usd"]) == {"BTCUSD", "ETHUSD"}
    page = (run_dir / "report" / "index.html").read_text()
    assert "<h2>Instruments</h2>" in page and "ETH-PERPETUAL" in page and "net delta BTCUSD" in page
