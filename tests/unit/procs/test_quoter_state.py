"""The quoter's estimator state on disk (procs/quoter_state.py): saved atomically, resumed exactly
when fresh and built from the same settings, refused (and logged, naming why) when stale, foreign,
corrupt or of other settings; the time the quoter was down is not exposure."""
from __future__ import annotations

import dataclasses
import json
import logging

import numpy as np
import pytest

from kernels.params import QuoteParams
from kernels.quote import QuoteEngine
from procs.quoter_state import FILE_NAME, QuoterState
from shm.records import MD_DTYPE, QUOTE_DTYPE

from agent_kit import BTC

PARAMS = QuoteParams(intensity_min_arrivals=20)


def trained_engine(params=PARAMS, seconds=300, seed=2):
    """An engine that has seen ``seconds`` of mids and trades (sigma, A, k and candles moved)."""
    rng = np.random.default_rng(seed)
    engine = QuoteEngine(params, 1.0, 0.001, 0.001)
    md, out = np.zeros(1, MD_DTYPE), np.zeros(1, QUOTE_DTYPE)
    mid, t = 100_000.0, 1_800_000_000.0
    for _ in range(int(seconds / 0.1)):
        t += 0.1
        mid += rng.normal(0, 8.0 * 0.316)
        md["type"], md["best_bid_price"], md["best_ask_price"] = 1, mid - 3, mid + 3
        md["exchange_ts_ns"] = md["receive_ts_ns"] = int(t * 1e9)
        engine.quote(md, 0.0, 0.0, 0.0, out)
        if rng.random() < 0.4:
            side = int(rng.choice([-1, 1]))
            engine.on_trade(mid + side * (3 + rng.exponential(10.0)), float(rng.exponential(0.3)), side, t)
    return engine


def snapshot(engine):
    return {name: json.dumps(getattr(engine, name).state(), sort_keys=True) for name in ("vol", "intensity", "candles")}


@pytest.fixture
def clock():
    now = [1_800_000_000.0]
    return now


def test_a_fresh_state_resumes_every_estimator_exactly_but_forgets_the_mid(tmp_path, clock):
    engine = trained_engine()
    assert engine.intensity.fits > 0 and engine.candles.n_closed > 2 and engine.vol.sigma() > 6
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    store.save([engine], [BTC], PARAMS)
    assert not (tmp_path / (FILE_NAME.replace(".json", ".tmp"))).exists()      # renamed into place
    clock[0] += 30
    fresh = QuoteEngine(PARAMS, 1.0, 0.001, 0.001)
    assert store.resume(store.load(), [fresh], [BTC], PARAMS) == [BTC.id]
    saved, got = snapshot(engine), snapshot(fresh)
    assert got["candles"] == saved["candles"]
    assert fresh.vol.variance == engine.vol.variance and fresh.vol.samples == engine.vol.samples
    assert (fresh.vol.sigma(), fresh.intensity.a, fresh.intensity.k) == (engine.vol.sigma(), engine.intensity.a,
                                                                        engine.intensity.k)
    assert np.isnan(fresh.intensity.state()["mid"])      # the time it was down is not exposure ...
    assert np.isnan(fresh.vol.last_mid)                   # ... nor one move


@pytest.mark.parametrize("age_s", [61.0, -30.0])
def test_a_stale_or_future_state_is_not_resumed(tmp_path, clock, age_s, caplog):
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    store.save([trained_engine(seconds=20)], [BTC], PARAMS)
    clock[0] += age_s
    with caplog.at_level(logging.INFO, "quoter"):
        assert store.load() is None
    assert "not resumed" in caplog.text


@pytest.mark.parametrize("text,why", [("{not json", "unreadable"), ('{"format": 9, "saved_at_s": 1.8e9, "instruments": {}}',
                                                                    "format=9"), ("[]", "unreadable")])
def test_a_corrupt_or_foreign_file_is_not_resumed_and_says_why(tmp_path, clock, text, why, caplog):
    (tmp_path / FILE_NAME).write_text(text)
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, "quoter"):
        assert store.load() is None
    assert why in caplog.text and FILE_NAME in caplog.text


def test_an_estimator_built_from_other_settings_starts_over_while_the_others_resume(tmp_path, clock, caplog):
    engine = trained_engine()
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    store.save([engine], [BTC], PARAMS)
    changed = dataclasses.replace(PARAMS, intensity_window_s=300.0)
    fresh = QuoteEngine(changed, 1.0, 0.001, 0.001)
    with caplog.at_level(logging.INFO, "quoter"):
        assert store.resume(store.load(), [fresh], [BTC], changed) == []
    assert "intensity state was built from other settings" in caplog.text
    assert fresh.vol.sigma() == engine.vol.sigma() and (fresh.intensity.a, fresh.intensity.k) == (1.0, 0.1)


def test_a_bad_field_is_refused_naming_it_and_that_estimator_starts_over(tmp_path, clock, caplog):
    engine = trained_engine(seconds=60)
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    store.save([engine], [BTC], PARAMS)
    data = json.loads((tmp_path / FILE_NAME).read_text())
    data["instruments"][BTC.name]["vol"]["state"]["variance"] = -4.0
    (tmp_path / FILE_NAME).write_text(json.dumps(data))
    fresh = QuoteEngine(PARAMS, 1.0, 0.001, 0.001)
    with caplog.at_level(logging.INFO, "quoter"):
        store.resume(store.load(), [fresh], [BTC], PARAMS)
    assert "volatility state: variance=-4.0" in caplog.text
    assert fresh.vol.sigma() == PARAMS.sigma_initial and fresh.candles.n_closed == engine.candles.n_closed


def test_saves_come_at_the_interval_and_not_between(tmp_path, clock):
    engine = trained_engine(seconds=10)
    store = QuoterState(tmp_path / FILE_NAME, 2.0, 60.0, clock=lambda: clock[0])
    assert [store.maybe_save([engine], [BTC], PARAMS, t) for t in (100.0, 101.0, 101.9, 102.0, 103.0)] == \
        [True, False, False, True, False]
    assert store.saves == 2
