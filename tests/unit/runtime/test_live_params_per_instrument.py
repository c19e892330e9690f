"""Live parameters per instrument: `set ETH-PERPETUAL.KEY` reaches ETH's engine only; `set quoter.KEY`
reaches every instrument that does not set the key itself."""
import json

import pytest

import conf
from control.commands import Commands, check_set_argument
from procs.quoter import Quoter
from runtime import settings as S
from runtime.live_params import LiveParamsReader, LiveParamsWriter, decode_all, encode_all
from runtime.main import validate_set
from runtime.supervisor import Supervisor
from kernels.params import QuoteParams

LISTING = [
    {"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
     "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"},
    {"instrument_name": "ETH-PERPETUAL", "product": "FETHUSD", "tick_size": 0.1, "volume_tick_size": 0.01,
     "min_order_amount": 0.01, "type": "perpetual", "underlying": "ETHUSD"},
]
NAMES = ("BTC-PERPETUAL", "ETH-PERPETUAL")


@pytest.fixture
def running(instance, tmp_path):
    settings = S.build(conf.load(None, [f"venue.instruments={','.join(NAMES)}"]), instance=instance,
                       venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(NAMES, LISTING))
    sup = Supervisor(settings, tmp_path)
    sup.create_segments()
    sup.publish_params()
    quoter = Quoter.from_settings(sup.settings)
    quoter.on_start()
    yield sup, quoter
    quoter.on_close()
    sup.stop(grace_s=0.1)


def test_each_instrument_starts_with_its_own_parameters(running):
    _, quoter = running
    btc, eth = (e.params for e in quoter.engines)
    assert (btc.levels, eth.levels) == (5, 3) and eth.base_size == 0.01 and btc.base_size == 0.001
    assert eth.max_position == 0.5 and btc.max_position == 0.05


def test_a_set_on_one_instrument_reaches_its_engine_and_leaves_the_others_alone(running):
    sup, quoter = running
    btc_engine, eth_engine = quoter.engines
    btc_before = btc_engine.params
    estimators = (eth_engine.vol, eth_engine.intensity, eth_engine.candles, eth_engine.markout)
    quoter.do_work()
    reply = Commands(sup, "ws://x", validate_set).set({"ETH-PERPETUAL.gamma": 0.02, "ETH-PERPETUAL.levels": 2})
    assert reply["params_version"] == 2
    quoter.do_work()
    assert (eth_engine.params.gamma, eth_engine.params.levels) == (0.02, 2)
    assert btc_engine.params is btc_before                # not even handed an equal copy
    assert all(a is b for a, b in zip((eth_engine.vol, eth_engine.intensity, eth_engine.candles,
                                       eth_engine.markout), estimators))
    saved = S.config_of(json.loads((sup.run_dir / "settings.json").read_text()))   # for a restart
    assert saved.quoter_for("ETH-PERPETUAL").gamma == 0.02 and saved.quoter_for("BTC-PERPETUAL").gamma == 0.05


def test_a_default_changed_live_reaches_the_instruments_without_their_own_value(running):
    sup, quoter = running
    reply = Commands(sup, "ws://x", validate_set).set({"quoter.levels": 4, "quoter.gamma": 0.07})
    assert reply["kept_by_instrument_sections"] == {"quoter.levels": ["ETH-PERPETUAL"], "quoter.gamma": ["ETH-PERPETUAL"]}
    quoter.do_work()
    btc, eth = (e.params for e in quoter.engines)
    assert (btc.levels, btc.gamma) == (4, 0.07)
    assert (eth.levels, eth.gamma) == (3, 1.5)            # its section sets both


@pytest.mark.parametrize("args,message", [
    ({"ETH-PERPETUAL.max_position": 0.1}, "risk limits need a restart"),
    ({"XRP-PERPETUAL.gamma": 0.1}, r"traded: BTC-PERPETUAL, ETH-PERPETUAL"),
    ({"ETH-PERPETUAL.levels": 11}, r'instruments."ETH-PERPETUAL".levels=11 in bin/mmctl set: must be within 1..10'),
    ({"ETH-PERPETUAL.base_size": 0.001}, r'instruments."ETH-PERPETUAL".base_size=0.001 is below the minimum order size 0.01'),
    ({"ETH-PERPETUAL.nosuch": 1}, r"only the quoter's keys"),
])
def test_a_refused_instrument_set_changes_nothing(running, args, message):
    sup, quoter = running
    before, seq = sup.settings, sup.segs["params"].sequence
    with pytest.raises(ValueError, match=message):
        Commands(sup, "ws://x", validate_set).set(args)
    assert sup.settings is before and sup.segs["params"].sequence == seq


def test_the_set_key_takes_an_instrument_name_and_nothing_else():
    check_set_argument("ETH-PERPETUAL.gamma", 0.1)
    check_set_argument("BTC-25DEC26.levels", 2)
    for key in ("ETH-PERPETUAL.gamma\nforged", "eth-PERPETUAL.gamma", "ETH PERP.gamma", "ETH-PERPETUAL.Gamma"):
        with pytest.raises(ValueError, match="expected SECTION.KEY"):
            check_set_argument(key, 0.1)


def test_the_record_carries_one_parameter_set_per_instrument(instance):
    params = [QuoteParams(gamma=0.1), QuoteParams(gamma=1.5, levels=3, base_size=0.01)]
    assert decode_all(encode_all(params)) == tuple(params)
    writer = LiveParamsWriter.create(instance)
    reader = LiveParamsReader.attach(instance)
    try:
        writer.publish(params)
        assert reader.take() == tuple(params)
        with pytest.raises(ValueError, match="9 instruments: the live parameters record holds 8"):
            writer.publish([QuoteParams()] * 9)
    finally:
        reader.close()
        writer.close()
