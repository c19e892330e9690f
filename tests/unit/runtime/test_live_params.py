"""Live quoter parameters travel through shared memory, by sequence; a refused or torn write never applies."""
import dataclasses
import json
import multiprocessing as mp

import numpy as np
import pytest

import conf
from control.commands import Commands
from kernels.params import QuoteParams
from procs.quoter import Quoter
from runtime import settings as S
from runtime.live_params import PARAMS_DTYPE, LiveParamsReader, LiveParamsWriter, decode, encode, encode_all
from runtime.main import validate_set
from runtime.supervisor import Supervisor

LISTING = [{"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
            "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"}]


def settings_for(instance: str, *overrides: str) -> dict:
    return S.build(conf.load(None, list(overrides)), instance=instance, venue_url="ws://127.0.0.1:1/ws/api/v2",
                   key_id="K", key_file="/k", instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))


def test_the_record_holds_every_parameter_and_gives_it_back_unchanged():
    assert {f.name for f in dataclasses.fields(QuoteParams)} <= set(PARAMS_DTYPE.names)
    assert PARAMS_DTYPE.itemsize % 64 == 0
    changed = QuoteParams(model="as", gamma=0.2, glft_xi_zero=True, levels=3, candle_lookback=12,
                          size_multipliers=(1, 2, 3), intensity_depths_ticks=(0, 2, 4.5), max_spread_ticks=float("inf"))
    for params in (QuoteParams(), changed):
        assert decode(encode(params)) == params


def test_a_list_longer_than_the_record_holds_is_refused_by_name():
    params = dataclasses.replace(QuoteParams(), intensity_depths_ticks=tuple(range(40)))
    with pytest.raises(ValueError, match="quoter.intensity_depths_ticks has 40 values: at most 32"):
        encode(params)


def test_the_reader_takes_each_write_once_by_sequence(instance):
    writer = LiveParamsWriter.create(instance)
    reader = LiveParamsReader.attach(instance)
    try:
        assert not reader.changed() and reader.take() is None       # nothing published yet
        writer.publish([QuoteParams(gamma=0.3)])
        assert reader.changed()
        assert reader.take() == (QuoteParams(gamma=0.3),)
        assert not reader.changed() and reader.take() is None       # taken once
        writer.publish([QuoteParams(gamma=0.4, levels=2)])
        assert reader.take() == (QuoteParams(gamma=0.4, levels=2),) and reader.taken == 4
    finally:
        reader.close()
        writer.close()


def test_a_write_under_way_is_not_taken_and_the_old_parameters_stay(instance):
    writer = LiveParamsWriter.create(instance)
    reader = LiveParamsReader.attach(instance)
    try:
        writer.publish([QuoteParams(gamma=0.3)])
        assert reader.take()[0].gamma == 0.3
        seq = np.ndarray(1, np.uint64, buffer=writer.record.segment.buf, offset=writer.record.segment.layout.records)
        seq[0] += 1                                  # a writer stopped half-way
        assert reader.changed() and reader.take() is None and reader.torn == 1
        del seq
        writer.publish([QuoteParams(gamma=0.5)])       # the next whole write is taken
        assert reader.take()[0].gamma == 0.5
    finally:
        reader.close()
        writer.close()


def test_a_record_that_fails_validation_is_refused_and_counted(instance):
    writer = LiveParamsWriter.create(instance)
    reader = LiveParamsReader.attach(instance)
    try:
        bad = encode_all([QuoteParams()])
        bad[0]["params"][0]["levels"] = 99           # the writer validates; a corrupt record must not pass either
        writer.record.write(bad)
        assert reader.take() is None and reader.refused == 1
        assert not reader.changed()                  # refused once, not again on every pass
    finally:
        reader.close()
        writer.close()


def _read_in_child(instance: str, queue) -> None:
    reader = LiveParamsReader.attach(instance)
    try:
        while not reader.changed():
            pass
        params = reader.take()[0]
        queue.put((reader.taken, params.gamma, params.levels))
    finally:
        reader.close()


@pytest.mark.timeout(60)
def test_a_quoter_side_reader_in_another_process_sees_the_supervisors_write(instance):
    writer = LiveParamsWriter.create(instance)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(instance, queue))
    child.start()
    try:
        writer.publish([QuoteParams(gamma=0.7, levels=4)])
        assert queue.get(timeout=30) == (2, 0.7, 4)
        child.join(30)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
        writer.close()


@pytest.fixture
def running(instance, tmp_path):
    """A supervisor with every segment (no child processes) and a quoter attached to them."""
    sup = Supervisor(settings_for(instance), tmp_path)
    sup.create_segments()
    sup.publish_params()
    quoter = Quoter.from_settings(sup.settings)
    quoter.on_start()
    yield sup, quoter
    quoter.on_close()
    sup.stop(grace_s=0.1)


def test_set_reaches_the_quoters_engines_and_their_estimators_keep_their_state(running):
    sup, quoter = running
    engine = quoter.engines[0]
    estimators = (engine.vol, engine.intensity, engine.candles, engine.markout)
    quoter.do_work()                                 # takes the start-up record: nothing changes
    assert engine.params.levels == 5
    reply = Commands(sup, "ws://x", validate_set).set({"quoter.levels": 2, "quoter.gamma": 0.2})
    assert reply["params_version"] == 2
    assert engine.params.levels == 5                 # nothing applied until the quoter's next pass
    quoter.do_work()
    assert (engine.params.levels, engine.params.gamma) == (2, 0.2)
    now = (engine.vol, engine.intensity, engine.candles, engine.markout)
    assert all(a is b for a, b in zip(now, estimators))
    assert S.config_of(json.loads((sup.run_dir / "settings.json").read_text())).quoter.levels == 2  # for a restart


def test_a_refused_set_changes_nothing_anywhere(running):
    sup, quoter = running
    commands = Commands(sup, "ws://x", validate_set)
    before, seq = sup.settings, sup.segs["params"].sequence
    for args in ({"quoter.levels": 99}, {"quoter.max_position": 0.01}, {"risk.max_position": 1.0},
                 {"quoter.levels": 2, "quoter.nosuch": 1}):
        with pytest.raises(ValueError):
            commands.set(args)
    assert sup.settings is before and sup.segs["params"].sequence == seq
    quoter.do_work()
    assert quoter.engines[0].params.levels == 5


def test_the_quoter_takes_its_limit_and_fee_from_risk(instance):
    quoter = Quoter.from_settings(settings_for(instance, "risk.max_position=0.02", "risk.maker_fee_rate=0.0003"))
    assert quoter.engines[0].params.max_position == 0.02
    assert quoter.engines[0].params.maker_fee_rate == 0.0003
