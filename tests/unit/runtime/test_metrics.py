"""Prometheus /metrics: served over real HTTP from the supervisor's shared memory, parsed by
Prometheus's own text parser, equal to what the state holds; the Grafana dashboard only asks for
what is served."""
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import conf
from control.commands import Commands
from runtime import settings as S
from runtime.metrics import MetricsServer
from runtime.supervisor import SLOTS, Supervisor
from shm.histogram import LATENCY_BOUNDS_NS, LatencyHistogram, cumulative_seconds
from shm.state import HALTED

ROOT = Path(__file__).resolve().parents[3]
LISTING = [
    {"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
     "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"},
    {"instrument_name": "ETH-PERPETUAL", "product": "FETHUSD", "tick_size": 0.1, "volume_tick_size": 0.01,
     "min_order_amount": 0.01, "type": "perpetual", "underlying": "ETHUSD"},
]
NAMES = ("BTC-PERPETUAL", "ETH-PERPETUAL")


@pytest.fixture
def served(instance, tmp_path):
    """A supervisor with every segment (no child process) and its metrics on an ephemeral port."""
    settings = S.build(conf.load(None, [f"venue.instruments={','.join(NAMES)}", "risk.max_net_delta_usd=900"]),
                       instance=instance, venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(NAMES, LISTING))
    sup = Supervisor(settings, tmp_path)
    sup.create_segments()
    sup.counters.register(SLOTS["quoter"], "quoter").add("errors", 2)   # as a quoter would, beating
    server = MetricsServer(sup, "ws://127.0.0.1:1/ws/api/v2", "127.0.0.1", 0)
    yield sup, server
    server.close()
    sup.stop(grace_s=0.1)


def scrape(url: str) -> dict:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_figures_served_are_those_in_shared_memory_and_those_status_shows(served):
    sup, server = served
    t = sup.state.table
    t["position"][0][:2] = [0.003, -0.2]
    t["mark"][0][:2] = [100_000.0, 3_500.0]
    t["instrument_fills"][0][:2] = [7, 5]
    t["fills"] = 12
    t["quotes_published"][0][:2] = [40, 30]
    t["net_delta_usd"][0][:2] = [300.0, -700.0]
    t["gross_notional_usd"] = 1000.0
    t["equity"], t["realised"], t["fees"] = 1.5, 2.0, 0.5
    t["trading_state"] = HALTED
    t["open_bid"][0][1] = 0.03
    t["trip_pulls"], t["fast_followups"] = 3, 2
    hist = LatencyHistogram(sup.state, "md_to_quote")
    for ns in (5_000, 30_000, 30_000, 2_000_000_000):
        hist.observe(ns)
    hist.flush()
    m = scrape(server.url)
    status = Commands(sup, "ws://x").status({})
    for name, i in status["instruments"].items():
        label = (("instrument", name),)
        assert m[("thalex_mm_instrument_position_contracts", label)] == i["position"]
        assert m[("thalex_mm_instrument_fills_total", label)] == i["fills"]
        assert m[("thalex_mm_instrument_quotes_published_total", label)] == i["quotes_published"]
        assert m[("thalex_mm_instrument_delta_usd", label)] == pytest.approx(i["delta_usd"])
    assert m[("thalex_mm_instrument_open_orders_contracts", (("instrument", "ETH-PERPETUAL"), ("side", "bid")))] == 0.03
    assert m[("thalex_mm_net_delta_usd", (("underlying", "BTCUSD"),))] == 300.0
    assert m[("thalex_mm_net_delta_usd", (("underlying", "ETHUSD"),))] == -700.0
    assert status["portfolio"]["net_delta_usd"] == {"BTCUSD": 300.0, "ETHUSD": -700.0}
    assert m[("thalex_mm_max_net_delta_usd", ())] == 900.0 == status["portfolio"]["max_net_delta_usd"]
    assert m[("thalex_mm_gross_notional_usd", ())] == 1000.0
    assert (m[("thalex_mm_equity_usd", ())], m[("thalex_mm_fills_total", ())]) == (1.5, 12)
    assert m[("thalex_mm_trading_state", (("thalex_mm_trading_state", "HALTED"),))] == 1.0
    assert m[("thalex_mm_tripwire_pulls_total", ())] == 3 == status["latency_us"]["trip_pulls"]
    assert status["latency_us"]["fast_followups"] == 2
    assert m[("thalex_mm_trading_state", (("thalex_mm_trading_state", "ACTIVE"),))] == 0.0
    # The histogram: cumulative buckets in seconds, everything above 1 s only in +Inf.
    assert m[("thalex_mm_md_to_quote_seconds_bucket", (("le", "1e-05"),))] == 1
    assert m[("thalex_mm_md_to_quote_seconds_bucket", (("le", "5e-05"),))] == 3
    assert m[("thalex_mm_md_to_quote_seconds_bucket", (("le", "1.0"),))] == 3
    assert m[("thalex_mm_md_to_quote_seconds_count", ())] == 4
    assert m[("thalex_mm_md_to_quote_seconds_sum", ())] == pytest.approx(2.000065)
    assert m[("thalex_mm_process_up", (("process", "quoter"),))] == 0.0      # nothing was started
    assert m[("thalex_mm_process_errors_total", (("process", "quoter"),))] == 2
    assert 0 <= m[("thalex_mm_process_heartbeat_age_seconds", (("process", "quoter"),))] < 60
    assert m[("thalex_mm_run_info", (("instance", sup.instance), ("venue", "ws://127.0.0.1:1/ws/api/v2")))] == 1.0


def test_every_name_follows_prometheus_conventions(served):
    _, server = served
    text = urllib.request.urlopen(server.url, timeout=10).read().decode()
    families = list(text_string_to_metric_families(text))
    assert families
    units = ("_usd", "_contracts", "_seconds", "_usd_per_contract")
    for f in families:
        assert re.fullmatch(r"thalex_mm_[a-z0-9_]+", f.name), f.name
        if f.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in f.samples), f.name
        if f.type == "histogram":
            assert f.name.endswith("_seconds")
        if f.type == "gauge" and any(w in f.name for w in ("position", "delta", "notional", "equity", "pnl", "age")):
            assert f.name.endswith(units), f"{f.name}: a unit belongs in the name"


def test_a_histogram_goes_on_counting_after_its_writer_restarts(served):
    sup, _ = served
    first = LatencyHistogram(sup.state, "md_to_send")
    first.observe(60_000)
    first.flush()
    again = LatencyHistogram(sup.state, "md_to_send")     # a restarted gateway
    again.observe(60_000)
    again.flush()
    buckets, total_s = cumulative_seconds(sup.state.table["md_to_send_hist"][0], float(sup.state.table["md_to_send_sum_ns"][0]))
    assert buckets[-1] == ("+Inf", 2) and total_s == pytest.approx(120e-6)
    assert [le for le, _ in buckets][:-1] == [repr(b / 1e9) for b in LATENCY_BOUNDS_NS]


def test_after_close_nothing_is_served_and_no_segment_is_read(served):
    sup, server = served
    url = server.url
    assert scrape(url)
    server.close()
    assert server.collector.collect() == []
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(url, timeout=2)
    server.close = lambda: None       # the fixture closes it again


def test_a_taken_port_fails_naming_the_url(served):
    sup, server = served
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError, match=f"metrics port http://127.0.0.1:{port}/metrics"):
        MetricsServer(sup, "ws://x", "127.0.0.1", port)


def test_the_metrics_port_is_configured_and_can_be_turned_off():
    assert conf.load().control.metrics_port == 7757 and conf.load().control.metrics_host == "127.0.0.1"
    assert conf.load(None, ["control.metrics_port=0"]).control.metrics_port == 0
    with pytest.raises(conf.ConfigError, match="control.metrics_port=7755 in .*: must differ from control.port"):
        conf.load(None, ["control.metrics_port=7755"])


def test_the_grafana_dashboard_asks_only_for_metrics_that_are_served(served):
    _, server = served
    served_names = {name for name, _ in scrape(server.url)}
    dashboard = json.loads((ROOT / "conf" / "grafana" / "thalex-mm.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    asked = {n for e in exprs for n in re.findall(r"thalex_mm_[a-z0-9_]+", e)}
    assert len(asked) >= 25
    assert sorted(asked - served_names) == []
    # Every family served is on the dashboard (a counter or a histogram through its samples).
    families = {re.sub(r"_(total|bucket|sum|count)$", "", n) for n in served_names}
    shown = {re.sub(r"_(total|bucket|sum|count)$", "", n) for n in asked}
    assert sorted(families - shown - {"thalex_mm_run_info", "thalex_mm_process_duplicates"}) == []
