"""[instruments."NAME"] and [products."NAME"]: overrides per instrument and per protection group,
validated like every other section, resolved for each traded instrument."""
from pathlib import Path

import pytest

import conf
from conf.schema import QUOTER_FROM
from runtime import settings as S

LISTING = [
    {"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
     "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"},
    {"instrument_name": "ETH-PERPETUAL", "product": "FETHUSD", "tick_size": 0.1, "volume_tick_size": 0.01,
     "min_order_amount": 0.01, "type": "perpetual", "underlying": "ETHUSD"},
    {"instrument_name": "BTC-25DEC26", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
     "min_order_amount": 0.001, "type": "future", "underlying": "BTCUSD", "expiration_timestamp": 1798185600},
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text(text)
    return path


def test_an_instrument_section_overrides_quoter_and_risk_for_that_instrument_only(tmp_path):
    config = conf.load(write(tmp_path, '[quoter]\ngamma = 0.05\nlevels = 5\n[risk]\nmax_position = 0.05\n'
                                       '[instruments."ETH-PERPETUAL"]\ngamma = 1.5\nlevels = 3\nbase_size = 0.01\n'
                                       'max_position = 0.5\nmax_order_size = 0.1\n'))
    eth, btc = config.quoter_for("ETH-PERPETUAL"), config.quoter_for("BTC-PERPETUAL")
    assert (eth.gamma, eth.levels, eth.base_size, eth.max_position) == (1.5, 3, 0.01, 0.5)
    assert (btc.gamma, btc.levels, btc.base_size, btc.max_position) == (0.05, 5, config.quoter.base_size, 0.05)
    assert config.risk_for("ETH-PERPETUAL").max_order_size == 0.1
    assert config.risk_for("BTC-PERPETUAL").max_order_size == config.risk.max_order_size
    # The account's numbers are the same for every instrument.
    assert config.risk_for("ETH-PERPETUAL").stop_loss == config.risk.stop_loss


def test_the_quoter_takes_max_position_from_the_instruments_own_risk_limit(tmp_path):
    config = conf.load(write(tmp_path, '[instruments."ETH-PERPETUAL"]\nmax_position = 0.7\n'))
    for key, (owner, owner_key) in QUOTER_FROM.items():
        assert getattr(config.quoter_for("ETH-PERPETUAL"), key) == getattr(config.risk_for("ETH-PERPETUAL"), owner_key)
    assert config.quoter_for("ETH-PERPETUAL").max_position == 0.7


@pytest.mark.parametrize("section,message", [
    ('[instruments."ETH-PERPETUAL"]\nbogus = 1\n',
     r'unknown key instruments."ETH-PERPETUAL".bogus in .*x.toml: expected one of model, gamma'),
    ('[instruments."ETH-PERPETUAL"]\ngamma = "high"\n',
     r'instruments."ETH-PERPETUAL".gamma=\'high\' in .*x.toml: expected a number'),
    ('[instruments."ETH-PERPETUAL"]\nlevels = 11\n',
     r'instruments."ETH-PERPETUAL".levels=11 in .*x.toml: must be within 1..10'),
    ('[instruments."ETH-PERPETUAL"]\nmax_position = -1\n',
     r'instruments."ETH-PERPETUAL".max_position=-1.0 in .*x.toml: must be within 1e-09..1000000.0 \(contracts\)'),
    ('[instruments."ETH-PERPETUAL"]\nstop_loss = 100\n',
     r'instruments."ETH-PERPETUAL".stop_loss in .*x.toml: risk.stop_loss is an account-wide number; set it under \[risk\]'),
    ('[instruments."ETH-PERPETUAL"]\nmaker_fee_rate = 0.0\n', r"risk.maker_fee_rate is an account-wide number"),
    ('[instruments."eth perpetual"]\ngamma = 1\n', r'\[instruments."eth perpetual"\] in .*x.toml: expected a name like'),
    ('[instruments."ETH-PERPETUAL"]\nlevels = 4\nsize_multipliers = [1, 2]\n',
     r'instruments."ETH-PERPETUAL".size_multipliers=\(1, 2\) in .*x.toml: need 4 values'),
    ('[instruments]\nETH-PERPETUAL = 3\n', r'instruments."ETH-PERPETUAL"=3 in .*x.toml: expected a table'),
    ('[products."FETHUSD"]\nmmp_trade_amount = -1\n',
     r'products."FETHUSD".mmp_trade_amount=-1.0 in .*x.toml: must be within 0.0..1000000.0'),
    ('[products."FETHUSD"]\ngamma = 1\n', r'unknown key products."FETHUSD".gamma in .*: expected one of mmp_trade_amount'),
    ('[products."ETH"]\nmmp_trade_amount = 1\n', r'\[products."ETH"\] in .*: expected a name like "FETHUSD"'),
])
def test_each_bad_instrument_or_product_value_is_named_with_file_section_and_key(tmp_path, section, message):
    with pytest.raises(conf.ConfigError, match=message):
        conf.load(write(tmp_path, section))


def test_a_pattern_covers_the_dated_futures_and_an_exact_name_wins(tmp_path):
    config = conf.load(write(tmp_path, '[instruments."BTC-*"]\nlevels = 3\n'
                                       '[instruments."BTC-PERPETUAL"]\nlevels = 7\n'))
    assert config.quoter_for("BTC-25DEC26").levels == 3
    assert config.quoter_for("BTC-PERPETUAL").levels == 7
    assert config.quoter_for("ETH-PERPETUAL").levels == config.quoter.levels


def test_two_patterns_matching_a_traded_instrument_are_refused(tmp_path):
    path = write(tmp_path, '[venue]\ninstruments = ["BTC-25DEC26"]\n'
                           '[instruments."BTC-*"]\nlevels = 3\n[instruments."*-25DEC26"]\nlevels = 2\n')
    with pytest.raises(conf.ConfigError, match=r'BTC-25DEC26 matches \[instruments."BTC-\*"\] and '
                                               r'\[instruments."\*-25DEC26"\]'):
        conf.load(path)


def test_the_instruments_list_comes_from_the_command_line_comma_separated():
    config = conf.load(None, ["venue.instruments=BTC-PERPETUAL,ETH-PERPETUAL"])
    assert config.venue.instruments == ("BTC-PERPETUAL", "ETH-PERPETUAL")
    assert conf.load(None, ["venue.instruments=ETH-PERPETUAL"]).venue.instruments == ("ETH-PERPETUAL",)
    assert conf.load(None, ["quoter.levels=3", "quoter.size_multipliers=1,2,3"]).quoter.size_multipliers == (1.0, 2.0, 3.0)
    with pytest.raises(conf.ConfigError, match="venue.instruments: BTC-PERPETUAL is listed twice"):
        conf.load(None, ["venue.instruments=BTC-PERPETUAL,BTC-PERPETUAL"])
    with pytest.raises(conf.ConfigError, match="quoter.size_multipliers=.* expected a list of numbers"):
        conf.load(None, ["quoter.size_multipliers=1,two"])


def test_an_instrument_key_can_be_set_from_the_command_line_both_ways():
    config = conf.load(None, ["ETH-PERPETUAL.gamma=0.02", "instruments.BTC-PERPETUAL.levels=2"])
    assert config.quoter_for("ETH-PERPETUAL").gamma == 0.02
    assert config.quoter_for("BTC-PERPETUAL").levels == 2
    with pytest.raises(conf.ConfigError, match=r"unknown section \[bogus\]"):
        conf.load(None, ["bogus.key=1"])


def test_paper_carries_sizes_fit_for_every_instrument_the_local_exchange_lists():
    from sim.instruments import default_instruments
    listed = default_instruments()
    config = conf.load(None, [f"venue.instruments={','.join(listed)}"])
    instruments = S.instruments_from_venue(tuple(listed), [i.to_dict() for i in listed.values()])
    S.check_order_sizes(config, instruments)      # each first level at least the minimum order
    S.check_protection(config, instruments)       # each group's protection covers its largest quote
    eth = config.quoter_for("ETH-PERPETUAL")
    assert eth.base_size >= listed["ETH-PERPETUAL"].min_order_amount
    assert config.mmp_for("FETHUSD") != config.mmp_for("FBTCUSD")


def test_protection_per_product_group_overrides_the_gateway_defaults(tmp_path):
    config = conf.load(write(tmp_path, '[gateway]\nmmp_trade_amount = 0.02\nmmp_quote_amount = 0.03\n'
                                       '[products."FETHUSD"]\nmmp_trade_amount = 0.2\n'))
    assert config.mmp_for("FETHUSD") == (0.2, 0.03)
    assert config.mmp_for("FBTCUSD") == (0.02, 0.03)


def test_a_group_whose_protection_is_smaller_than_its_largest_quote_is_refused():
    config = conf.load(None, ["ETH-PERPETUAL.base_size=0.5", "instruments.ETH-PERPETUAL.max_order_size=1"])
    instruments = S.instruments_from_venue(("BTC-PERPETUAL", "ETH-PERPETUAL"), LISTING)
    with pytest.raises(conf.ConfigError, match=r"mmp_quote_amount=0.2 of product group FETHUSD is below the "
                                               r"largest quote of ETH-PERPETUAL, 0.75 contracts"):
        S.check_protection(config, instruments)


def test_an_eth_base_size_below_its_minimum_names_its_own_section():
    config = conf.load(None, ["ETH-PERPETUAL.base_size=0.001"])
    with pytest.raises(conf.ConfigError, match=r'instruments."ETH-PERPETUAL".base_size=0.001 is below the minimum '
                                               r"order size 0.01 of ETH-PERPETUAL"):
        S.check_order_sizes(config, S.instruments_from_venue(("ETH-PERPETUAL",), LISTING))


def test_the_sections_survive_the_round_trip_through_the_run_settings():
    config = conf.load(None, ["venue.instruments=BTC-PERPETUAL,ETH-PERPETUAL"])
    settings = S.build(config, instance="t", venue_url="ws://x", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(("BTC-PERPETUAL", "ETH-PERPETUAL"), LISTING))
    assert [i["name"] for i in settings["instruments"]] == ["BTC-PERPETUAL", "ETH-PERPETUAL"]
    back = S.config_of(settings)
    assert back.quoter_for("ETH-PERPETUAL") == config.quoter_for("ETH-PERPETUAL")
    assert back.mmp_for("FETHUSD") == config.mmp_for("FETHUSD")
    assert [i.underlying for i in S.instruments_of(settings)] == ["BTCUSD", "ETHUSD"]
