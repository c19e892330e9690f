"""Configuration: shipped files load, overrides apply, every bad value is named."""
import os
from pathlib import Path

import pytest

import conf
from venue.credentials import read_credentials
from conf.schema import Venue

CONF = Path(conf.__file__).resolve().parent


@pytest.mark.parametrize("name", ["paper", "testnet", "production", "colo"])
def test_every_shipped_file_loads(name):
    config = conf.load(CONF / f"{name}.toml")
    assert config.source.endswith(f"{name}.toml")
    assert config.quoter.levels >= 1


def test_paper_is_the_default_and_trades_against_the_embedded_exchange():
    config = conf.load()
    assert config.venue.url == "embedded" and config.venue.instruments == ("BTC-PERPETUAL",)
    assert all(getattr(config.processes, p).idle != "busy-spin"
               for p in ("feed", "quoter", "risk", "gateway", "recorder"))


def test_the_overrides_design_md_names_apply():
    config = conf.load(None, ["venue.url=ws://127.0.0.1:9000/ws/api/v2", "risk.max_position=0.05",
                              "recorder.dir=/some/dir", "control.port=7766",
                              "processes.quoter.cpu=0"])
    assert config.venue.url == "ws://127.0.0.1:9000/ws/api/v2"
    assert config.risk.max_position == 0.05 and config.recorder.dir == "/some/dir"
    assert config.control.port == 7766 and config.processes.quoter.cpu == 0


@pytest.mark.parametrize("override,message", [
    ("risk.max_position=-1", "risk.max_position=-1.0 in .*paper.toml: must be within 1e-09..1000000.0 (contracts)"),
    ("risk.bogus=1", "unknown key risk.bogus in .*paper.toml: expected one of max_position"),
    ("bogus.key=1", r"unknown section \[bogus\]"),
    ("quoter.levels=11", "quoter.levels=11 in .*: must be within 1..10"),
    ("quoter.max_position=0.05", "quoter.max_position in .*paper.toml: risk.max_position is its one owner"),
    ("quoter.maker_fee_rate=0.0", "quoter.maker_fee_rate in .*: risk.maker_fee_rate is its one owner"),
    ("gateway.orders_per_s=11", "gateway.orders_per_s=11.0 in .*: must be within 2.0..10.0"),
    ("gateway.cancels_per_s=1001", "gateway.cancels_per_s=1001.0 in .*: must be within 2.0..1000.0"),
    ("venue.reconnect_min_s=20", "venue.reconnect_min_s=20.0 in .*: must be <= venue.reconnect_max_s"),
    ("gateway.throttle_cooldown_s=9", "gateway.throttle_cooldown_s=9.0 in .*: must be <= gateway.throttle_cooldown_max_s"),
    ("feed.reconnect_max_s=5", "unknown key feed.reconnect_max_s"),
    ("quoter.size_multipliers=[1, -1]", r"quoter.size_multipliers=\(1, -1\) in .*: each value must be > 0"),
    ("quoter.markout_horizon_s=7", "quoter.markout_horizon_s=7.0 in .*: expected one of 1.0, 5.0, 30.0"),
    ("quoter.gamma=true", "quoter.gamma=True in .*: expected a number"),
    ("control.port=70000", "control.port=70000 in .*: must be within 1..65535"),
    ("control.host=0.0.0.0", "requires control.curve_secret_key_file"),
    ("processes.quoter.idle=spin", "processes.quoter.idle='spin' in .*: expected one of busy-spin"),
    ("venue.url=http://x", "venue.url='http://x' in .*: expected ws://"),
    ("risk.max_position", "expected SECTION.KEY=VALUE"),
    ("feed.max_clock_skew_s=0", "feed.max_clock_skew_s=0.0 in .*: must be within 0.01..60.0 (s an exchange timestamp may be ahead of our clock)"),
    ("feed.max_data_age_s=1e9", "feed.max_data_age_s=1000000000.0 in .*: must be within 0.1..3600.0"),
    ("feed.price_band_bps=0", "feed.price_band_bps=0.0 in .*: must be within 1.0..10000.0"),
    ("feed.index_band_bps=nan", "feed.index_band_bps=nan in .*: expected a finite number"),
    ("feed.reanchor_after_s=-1", "feed.reanchor_after_s=-1.0 in .*: must be within 0.1..600.0"),
])
def test_each_bad_value_stops_the_start_naming_key_value_and_range(override, message):
    with pytest.raises(conf.ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
                       if "\\" not in message else message):
        conf.load(None, [override])


def test_two_busy_spinners_on_one_cpu_are_refused(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text('[processes.quoter]\ncpu = 1\nidle = "busy-spin"\n'
                 '[processes.gateway]\ncpu = 1\nidle = "busy-spin"\n')
    with pytest.raises(conf.ConfigError, match="at most one busy-spinner per CPU"):
        conf.load(f)


@pytest.mark.parametrize("name", ["gateway", "quoter", "risk"])
def test_a_rung_process_may_not_sleep_a_fixed_period_the_recorder_may(name):
    with pytest.raises(conf.ConfigError, match=rf"processes.{name}.idle='sleep' in .*: {name} is woken "
                                               r"by its producers' rings.*expected backoff"):
        conf.load(None, [f"processes.{name}.idle=sleep"])
    assert conf.load(None, ["processes.recorder.idle=sleep"]).processes.recorder.idle == "sleep"


def test_a_time_slice_below_the_kernels_range_is_refused():
    with pytest.raises(conf.ConfigError, match=r"processes.gateway.slice_us=50 in .*: expected 0 .* or 100-100000 us"):
        conf.load(None, ["processes.gateway.slice_us=50"])
    assert conf.load(None, ["processes.gateway.slice_us=0"]).processes.gateway.slice_us == 0
    assert conf.load(None, ["processes.risk.slice_us=100"]).processes.risk.slice_us == 100


def test_only_the_latency_path_asks_for_a_short_time_slice():
    """Risk and the recorder keep the kernel's slice: a short one would let them preempt the path."""
    p = conf.load(None).processes
    assert [p.feed.slice_us, p.quoter.slice_us, p.gateway.slice_us] == [100.0] * 3
    assert p.risk.slice_us == p.recorder.slice_us == 0


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(conf.ConfigError, match="does not exist"):
        conf.load(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[risk\n")
    with pytest.raises(conf.ConfigError, match="bad.toml is not valid TOML"):
        conf.load(tmp_path / "bad.toml")


def test_round_trip_through_a_plain_dict():
    config = conf.load(None, ["risk.max_position=0.03"])
    assert conf.from_dict(conf.to_dict(config), config.source) == config


def test_credentials_come_from_the_environment_and_a_readable_key_is_refused(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n...\n")
    os.chmod(key, 0o644)
    env = {"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)}
    with pytest.raises(conf.ConfigError, match="has mode 0644: group/others may access it"):
        read_credentials(Venue(), env)
    os.chmod(key, 0o600)
    assert read_credentials(Venue(), env)[0] == "K1"
    with pytest.raises(conf.ConfigError, match="THALEX_KEY_ID is not set"):
        read_credentials(Venue(), {})
