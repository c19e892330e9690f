"""QuoteEngine, the quoter's entry point: publish, hold, pull, limits, and twin agreement."""
import dataclasses
import math

import numpy as np
import pytest

from kernels.params import QuoteParams
from shm import records as R


T0 = 1_700_000_000 * 10**9


def md(bid=50_000.0, ask=50_001.0, t_s=0.0, mark=50_000.5, flags=0, seq=1):
    rec = np.zeros(1, R.MD_DTYPE)
    rec["type"], rec["seq"], rec["flags"], rec["instrument_id"] = R.MD_TICKER, seq, flags, 3
    rec["best_bid_price"], rec["best_ask_price"], rec["mark_price"] = bid, ask, mark
    rec["exchange_ts_ns"] = T0 + int(t_s * 1e9)
    return rec


def engine(K, **over):
    params = dataclasses.replace(QuoteParams(candles=False, fee_aware=False), **over)
    return K.QuoteEngine(params, tick_size=1.0, amount_tick=0.001, min_amount=0.001)


def quote(e, rec, q=0.0, open_bid=0.0, open_ask=0.0):
    out = np.zeros(1, R.QUOTE_DTYPE)
    status = e.quote(rec, q, open_bid, open_ask, out)
    return status, out[0]


@pytest.mark.parametrize("model", ["as", "glft"])
def test_first_record_publishes_a_full_ladder_around_the_mid(K, model):
    status, o = quote(engine(K, model=model), md())
    assert status == K.ENGINE_PUBLISHED and o["type"] == R.QUOTE_SET
    assert o["n_bids"] == 10 and o["n_asks"] == 10
    assert o["bid_price"][0] < 50_000.5 < o["ask_price"][0]
    assert o["bid_price"][0] <= 50_000.0 and o["ask_price"][0] >= 50_001.0
    assert o["md_seq"] == 1 and o["instrument_id"] == 3 and o["sigma"] == 5.0


def test_glft_level_zero_is_the_closed_form_snapped_to_the_tick(K):
    p = dict(gamma=0.05, a_prior=1.0, k_prior=0.1, order_unit=0.001, sigma_initial=5.0)
    _, o = quote(engine(K, **p), md(49_990.0, 50_010.0), q=0.02)
    c1 = K.glft_c1(0.05, 0.1, 0.001)
    c2 = K.glft_c2(0.05, 0.05, 1.0, 0.1, 0.001)
    half, skew = K.glft_half_spread(c1, c2, 5.0, 0.001), K.glft_skew(c2, 5.0)
    assert o["bid_price"][0] == math.floor(50_000.0 - half - skew * 0.02)
    assert o["ask_price"][0] == math.ceil(50_000.0 + half - skew * 0.02)


def test_as_level_zero_is_the_closed_form_with_the_rolling_horizon(K):
    e = engine(K, model="as", gamma=0.01, k_prior=0.2, horizon_s=30.0, sigma_initial=3.0)
    _, o = quote(e, md(49_990.0, 50_010.0), q=0.05)
    r = K.as_reservation_price(50_000.0, 0.05, 0.01, 3.0, 30.0)
    half = K.as_spread(0.01, 3.0, 30.0, 0.2) / 2
    assert o["reservation_price"] == pytest.approx(r) and o["half_spread"] == pytest.approx(half)
    assert o["bid_price"][0] == math.floor(r - half)


def test_dated_future_uses_time_to_expiry(K):
    params = QuoteParams(model="as", candles=False, fee_aware=False, gamma=0.01, sigma_initial=3.0)
    e = K.QuoteEngine(params, 1.0, 0.001, 0.001, expiry_s=T0 / 1e9 + 10.0)
    _, o = quote(e, md(49_990.0, 50_010.0), q=0.05)
    assert o["reservation_price"] == pytest.approx(50_000.0 - 0.05 * 0.01 * 9.0 * 10.0)


def test_an_unchanged_market_publishes_nothing_new(K):
    e = engine(K)
    assert quote(e, md(t_s=0.0))[0] == K.ENGINE_PUBLISHED
    assert quote(e, md(t_s=0.1, seq=2))[0] == K.ENGINE_UNCHANGED


def test_a_move_within_tolerance_keeps_resting_levels(K):
    e = engine(K, requote_tolerance_ticks=3.0, sigma_floor=5.0, sigma_ceiling=5.0)
    _, first = quote(e, md(t_s=0.0))
    status, second = quote(e, md(50_001.0, 50_002.0, t_s=0.1))
    assert status == K.ENGINE_UNCHANGED
    assert list(second["bid_price"]) == list(first["bid_price"])


def test_a_big_move_requotes(K):
    e = engine(K, sigma_floor=5.0, sigma_ceiling=5.0)
    quote(e, md(t_s=0.0))
    status, o = quote(e, md(50_100.0, 50_101.0, t_s=0.1))
    assert status == K.ENGINE_PUBLISHED and o["bid_price"][0] > 50_050


@pytest.mark.parametrize("rec,reason", [
    (md(flags=R.MD_FLAG_STALE), R.QUOTE_REASON_STALE),
    (md(math.nan, math.nan, mark=math.nan), R.QUOTE_REASON_NO_PRICE),
    (md(-1.0, 0.0, mark=0.0), R.QUOTE_REASON_NO_PRICE),
    (md(50_002.0, 50_001.0), R.QUOTE_REASON_CROSSED_BOOK),
])
def test_bad_market_data_pulls_the_quotes_once(K, rec, reason):
    e = engine(K)
    assert quote(e, md())[0] == K.ENGINE_PUBLISHED
    status, o = quote(e, rec)
    assert status == K.ENGINE_PULLED and o["type"] == R.QUOTE_PULL and o["reason"] == reason
    assert o["n_bids"] == 0 and o["n_asks"] == 0
    assert quote(e, rec)[0] == K.ENGINE_UNCHANGED          # already pulled
    assert quote(e, md(t_s=1.0))[0] == K.ENGINE_PUBLISHED    # good data quotes again


def test_nan_inventory_pulls_rather_than_quotes(K):
    assert quote(engine(K), md(), q=math.nan)[0] == K.ENGINE_PULLED


def test_an_empty_book_side_quotes_around_the_mark(K):
    status, o = quote(engine(K), md(math.nan, 50_010.0, mark=50_000.0))
    assert status == K.ENGINE_PUBLISHED and o["mid"] == 50_000.0
    assert o["ask_price"][0] > o["bid_price"][0]


def test_inventory_at_the_limit_quotes_only_the_reducing_side(K):
    _, o = quote(engine(K, max_position=0.05), md(), q=0.05)
    assert o["n_bids"] == 0 and o["n_asks"] > 0
    _, o = quote(engine(K, max_position=0.05), md(), q=0.0, open_bid=0.049)
    assert o["n_bids"] == 1 and o["bid_amount"][0] == pytest.approx(0.001)


def test_gamma_near_zero_and_k_near_zero_still_give_finite_clamped_quotes(K):
    for over in ({"gamma": 1e-12}, {"k_prior": 1e-9, "max_spread_ticks": 500.0}):
        for model in ("as", "glft"):
            status, o = quote(engine(K, model=model, **over), md())
            assert status == K.ENGINE_PUBLISHED, (over, model)
            assert o["ask_price"][0] - o["bid_price"][0] <= 502.0
            assert np.all(np.isfinite(o["bid_price"]))


def test_wrong_record_arrays_are_refused_with_a_clear_error(K):
    e = engine(K)
    with pytest.raises(TypeError, match="md: expected a C-contiguous record array of 128-byte"):
        e.quote(np.zeros(1, R.TRADE_DTYPE), 0.0, 0.0, 0.0, np.zeros(1, R.QUOTE_DTYPE))


def test_bad_params_are_refused_naming_field_and_value(K):
    with pytest.raises(ValueError, match="gamma=-1.0 in QuoteParams: must be > 0"):
        engine(K, gamma=-1.0)
    with pytest.raises(ValueError, match="model='bs'"):
        engine(K, model="bs")


def test_set_params_takes_effect_on_the_next_call(K):
    e = engine(K, levels=10)
    quote(e, md())
    e.set_params(dataclasses.replace(e.params, levels=3))
    status, o = quote(e, md(t_s=0.1))
    assert status == K.ENGINE_PUBLISHED and o["n_bids"] == 3


def replay(impl, seed, model):
    """Both implementations on the same stream of ticks and trades; every output record kept."""
    params = QuoteParams(model=model, candles=True, candle_volume=0.5, intensity_min_arrivals=20,
                         intensity_window_s=120.0, eta=3.0)
    e = impl.QuoteEngine(params, 1.0, 0.001, 0.001)
    rng = np.random.default_rng(seed)
    mid, t, q = 50_000.0, 0.0, 0.0
    outputs = []
    for i in range(1500):
        t += float(rng.exponential(0.1))
        mid += float(rng.normal(0, 2.0))
        half = float(rng.integers(1, 4))
        if rng.random() < 0.3:
            side = int(rng.choice([-1, 1]))
            e.on_trade(mid + side * float(rng.exponential(8.0)), float(rng.exponential(0.2)), side, t)
        if rng.random() < 0.05:
            q = float(np.clip(q + rng.normal(0, 0.02), -0.1, 0.1))
        rec = md(round(mid - half), round(mid + half), t_s=t, seq=i)
        if rng.random() < 0.01:
            rec["best_bid_price"] = math.nan
        out = np.zeros(1, R.QUOTE_DTYPE)
        outputs.append((e.quote(rec, q, 0.0, 0.0, out), out.copy()))
    return outputs


@pytest.mark.parametrize("model", ["as", "glft"])
def test_compiled_engine_and_its_twin_agree_record_for_record(C, P, model):
    ours, twin = replay(C, 4, model), replay(P, 4, model)
    published = 0
    for (s1, o1), (s2, o2) in zip(ours, twin):
        assert s1 == s2
        published += s1 == 1
        for name in R.QUOTE_DTYPE.names:
            a, b = np.asarray(o1[name], dtype=np.float64), np.asarray(o2[name], dtype=np.float64)
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True), name
    assert published > 50


def test_a_live_model_change_keeps_the_estimators_state(K):
    e = engine(K)
    quote(e, md(t_s=0.0))
    quote(e, md(50_010.0, 50_011.0, t_s=1.0))
    vol, intensity = e.vol, e.intensity
    e.set_params(dataclasses.replace(e.params, gamma=0.2, levels=4))
    assert e.vol is vol and e.intensity is intensity and e.vol.samples == 1
    e.set_params(dataclasses.replace(e.params, vol_half_life_s=5.0))
    assert e.vol is not vol and e.vol.samples == 0   # its own settings changed: a fresh estimator


def test_a_jump_pulls_the_exposed_side_at_once_and_flags_it(K):
    e = engine(K, sigma_floor=2.0, sigma_ceiling=2.0, requote_tolerance_ticks=50.0)
    assert quote(e, md(t_s=0.0))[0] == K.ENGINE_PUBLISHED
    status, o = quote(e, md(50_060.0, 50_061.0, t_s=0.2))          # +60 USD in 0.2 s
    assert status == K.ENGINE_PUBLISHED
    assert o["flags"] & R.QUOTE_FLAG_FAST_CANCEL and o["n_asks"] == 0 and o["n_bids"] > 0
    status, o = quote(e, md(50_060.0, 50_061.0, t_s=0.4))          # still settling: asks stay out
    assert o["n_asks"] == 0 and not o["flags"] & R.QUOTE_FLAG_FAST_CANCEL
    status, o = quote(e, md(50_060.0, 50_061.0, t_s=4.0))          # settled: both sides again
    assert status == K.ENGINE_PUBLISHED and o["n_asks"] > 0


def test_fills_picked_off_widen_that_side(K):
    e = engine(K, sigma_floor=2.0, sigma_ceiling=2.0, markout_threshold=1.0, markout_horizon_s=1.0,
               fast_cancel=False)
    _, before = quote(e, md(t_s=0.0))
    for i in range(5):                       # we buy, and the market falls 10 USD each time
        e.on_fill(1, 50_000.0, i * 2.0)
        quote(e, md(49_990.0, 49_991.0, t_s=i * 2.0 + 1.5))
        quote(e, md(50_000.0, 50_001.0, t_s=i * 2.0 + 1.9))
    _, after = quote(e, md(t_s=20.0))
    assert e.markout.average(1, 0) < -5.0
    assert after["bid_price"][0] < before["bid_price"][0] - 5          # bids stepped away
    assert after["ask_price"][0] == pytest.approx(before["ask_price"][0], abs=1.0)
