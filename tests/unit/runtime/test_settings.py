"""Run settings: instruments resolved from the venue's listing, a round trip through JSON."""
import json
from pathlib import Path

import pytest

import conf
from runtime import settings as S
from procs.gateway.agent import label_for

LISTING = [{"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
            "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"},
           {"instrument_name": "BTC-25DEC26", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
            "min_order_amount": 0.001, "type": "future", "expiration_timestamp": 1798185600}]


def test_instruments_take_their_ticks_from_the_venue_in_config_order():
    got = S.instruments_from_venue(("BTC-25DEC26", "BTC-PERPETUAL"), LISTING)
    assert [(i.id, i.name) for i in got] == [(0, "BTC-25DEC26"), (1, "BTC-PERPETUAL")]
    assert got[0].expiry_s == 1798185600 and got[1].expiry_s == 0.0 and got[1].tick_size == 1.0


def test_an_instrument_the_venue_does_not_list_is_a_config_error():
    with pytest.raises(conf.ConfigError, match="'ETH-PERPETUAL' is not listed by the exchange"):
        S.instruments_from_venue(("ETH-PERPETUAL",), LISTING)


def test_settings_survive_json_and_give_back_the_same_config():
    config = conf.load(None, ["risk.max_position=0.02"])
    settings = S.build(config, instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K",
                       key_file="/k", instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))
    back = json.loads(json.dumps(settings))
    assert S.config_of(back).risk.max_position == 0.02
    assert S.instruments_of(back)[0].name == "BTC-PERPETUAL"
    assert back["process_runtime"]["quoter"]["max_sleep_s"] == pytest.approx(1000e-6)
    # The recorder drains its rings once a period: no back-off floor to carry.
    assert back["process_runtime"]["recorder"] == {"cpu": 1, "idle": "sleep", "slice_us": 0.0,
                                                   "max_sleep_s": pytest.approx(5000e-6)}


def test_the_order_label_matches_the_exchange_probe():
    # sim/latency.py labels a ticker "tt" + round(mark_timestamp * 1e6); we carry it in ns.
    mark_timestamp = 1795510164.379417
    assert label_for(int(mark_timestamp * 1e9)) == "tt" + str(round(mark_timestamp * 1e6))


def test_a_refused_live_set_leaves_the_running_settings_untouched():
    from runtime.main import validate_set
    config = conf.load()
    settings = S.build(config, instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K",
                       key_file="/k", instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))
    before = json.dumps(settings, sort_keys=True)
    for key, value in (("quoter.nosuch", 1), ("quoter.levels", 0), ("risk.max_position", 1.0), ("levels", 3)):
        with pytest.raises(ValueError):
            validate_set(settings, key, value)
    assert json.dumps(settings, sort_keys=True) == before
    assert validate_set(settings, "quoter.levels", 4)["quoter"]["levels"] == 4
    with pytest.raises(ValueError, match="expected SECTION.KEY"):
        validate_set(settings, "levels", 3)


def test_commands_that_take_no_arguments_refuse_them():
    from control.commands import Commands

    class Sup:
        settings, segs, instance, run_dir = {}, {}, "t", "/tmp"
    handlers = Commands(Sup(), "ws://x", None).handlers()
    assert handlers["ping"]({})["pong"] is True
    with pytest.raises(ValueError, match="takes no arguments, got extra"):
        handlers["status"]({"extra": 1})


def test_a_base_size_below_the_minimum_order_size_is_refused_naming_both():
    listing = [dict(LISTING[0], min_order_amount=0.01)]
    config = conf.load(None, ["quoter.base_size=0.005"])
    with pytest.raises(conf.ConfigError, match=r"quoter.base_size=0.005 is below the minimum order size 0.01 "
                                               r"of BTC-PERPETUAL .* set quoter.base_size >= 0.01"):
        S.build(config, instance="t", venue_url="ws://x", key_id="K", key_file="/k",
                instruments=S.instruments_from_venue(("BTC-PERPETUAL",), listing))
    config = conf.load(None, ["quoter.base_size=0.01"])
    S.build(config, instance="t", venue_url="ws://x", key_id="K", key_file="/k",
            instruments=S.instruments_from_venue(("BTC-PERPETUAL",), listing))


def test_a_live_set_below_the_minimum_order_size_is_refused():
    from control.commands import Commands
    from runtime.main import validate_set

    class Sup:
        segs, instance, run_dir = {}, "t", "/tmp"
        settings = S.build(conf.load(), instance="t", venue_url="ws://x", key_id="K", key_file="/k",
                           instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))
    with pytest.raises(ValueError, match="quoter.base_size=0.0005 is below the minimum order size 0.001"):
        Commands(Sup(), "ws://x", validate_set).set({"quoter.base_size": 0.0005})


def test_relative_run_directories_are_the_projects_wherever_we_start():
    assert S.runs_dir("runs") == S.PROJECT_ROOT / "runs"
    assert S.runs_dir("/data/runs") == Path("/data/runs")
    assert (S.PROJECT_ROOT / "runtime" / "settings.py").is_file()
