"""Time is input: every estimator, the guard, the candles and the markouts cope with a clock that
steps back (dt < 0), stands still (dt = 0) or leaps (huge dt), and the engine's market clock
does not assume the exchange time moves with every record (the mark moves about once a second).

Each test replays what an adversary did to the live pipeline: one ticker stamped far in the
future, then honest data again.
"""
import dataclasses
import math

import numpy as np
import pytest

from kernels.params import QuoteParams
from shm import records as R
from tests.unit.kernels.conftest import close

FUTURE = 1.0e9          # seconds ahead: the bogus stamp
T0_NS = 1_700_000_000 * 10**9


def walk(update, t, mid, seconds, dt=0.05, sigma=2.0, seed=5):
    rng = np.random.default_rng(seed)
    for _ in range(int(seconds / dt)):
        t += dt
        mid += float(rng.normal(0, sigma * math.sqrt(dt)))
        update(mid, t)
    return t, mid


# ---- fast-cancel guard ---------------------------------------------------------------------------
def test_after_a_future_stamp_a_later_jump_still_pulls(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    t, mid = walk(lambda m, t: g.update(m, t, 2.0), 0.0, 50_000.0, 5)
    assert g.update(mid, t + FUTURE, 2.0) == 0                 # the lie: calm, nothing moved
    t, mid = walk(lambda m, t: g.update(m, t, 2.0), t, mid, 2)  # honest data again
    assert g.update(mid + 300.0, t + 0.05, 2.0) == 2           # the jump pulls the asks
    assert g.clock_resets == 1


def test_a_pull_triggered_on_a_future_clock_settles_on_the_real_one(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    t, mid = walk(lambda m, t: g.update(m, t, 2.0), 0.0, 50_000.0, 5)
    g.update(mid, t + FUTURE, 2.0)
    assert g.update(mid - 100.0, t + FUTURE + 0.1, 2.0) == 1  # a pull on the bogus clock
    states = []
    walk(lambda m, t: states.append(g.update(m, t, 2.0)), t, mid - 100.0, 5)
    assert states[0] == 1                                      # the pull holds for settle_s...
    assert states[-1] == 0                                     # ...on the honest clock, not forever


def test_a_record_slightly_out_of_order_still_counts(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    g.update(50_000.0, 10.0, 2.0)
    assert g.update(50_050.0, 9.8, 2.0) == 2                   # 0.2 s late: simultaneous, not ignored
    assert g.clock_resets == 0


def test_a_huge_step_forward_ages_the_window_out_and_settles(K):
    g = K.MoveGuard(1.0, 30.0, 0.0, 0.0, 3.0)
    g.update(50_000.0, 0.0, 2.0)
    assert g.update(50_050.0, 0.1, 2.0) == 2
    assert g.update(50_050.0, FUTURE, 2.0) == 0                # settled, and 50_000 is out of the window
    assert g.update(50_051.0, FUTURE + 0.1, 2.0) == 0


# ---- volatility ------------------------------------------------------------------------------------
def test_a_future_stamp_neither_wipes_nor_freezes_sigma(K):
    est = K.EwmaVariance(30.0, 1.0)
    t, mid = walk(est.update, 0.0, 50_000.0, 300, dt=0.1, sigma=7.0)
    before, samples = est.sigma(), est.samples
    assert before == pytest.approx(7.0, rel=0.2)
    est.update(mid + 5.0, t + FUTURE)                          # would give ds^2 / 1e9 full weight
    assert est.sigma() == before
    walk(est.update, t, mid, 60, dt=0.1, sigma=7.0, seed=8)     # honest again (a step back first)
    assert est.samples > samples + 500                         # counting again, not frozen
    assert est.sigma() == pytest.approx(7.0, rel=0.25)
    assert est.clock_resets == 2


def test_a_sample_that_did_not_advance_waits_and_a_step_back_rebases(K):
    est = K.EwmaVariance(10.0, 1.0)
    est.update(100.0, 5.0)
    est.update(101.0, 5.0)                                     # dt = 0: waits
    assert est.samples == 0 and est.last_mid == 100.0
    est.update(90.0, 4.0)                                      # dt < 0: a new base, no sample
    assert est.samples == 0 and (est.last_mid, est.last_t_s) == (90.0, 4.0) and est.variance == 1.0
    est.update(91.0, 5.0)
    assert est.samples == 1


# ---- intensity -------------------------------------------------------------------------------------
def flow(est, t, minutes, seed, a=0.8, k=0.15, dt=0.25):
    rng = np.random.default_rng(seed)
    mid = 30_000.0
    for _ in range(int(minutes * 60 / dt)):
        t += dt
        mid += rng.normal(0, 0.5)
        est.on_mid(mid, t)
        for side in (1, -1):
            for _ in range(rng.poisson(a * dt)):
                est.on_trade(mid + side * rng.exponential(1.0 / k), side, t)
        est.maybe_refit(t)
    return t


def test_after_a_future_stamp_the_intensity_fit_carries_on(K):
    est = K.IntensityEstimator(np.arange(0, 40, 2.0), 300.0, 5.0, prior_a=5.0, prior_k=1.0,
                               min_arrivals=100)
    t = flow(est, 1_000.0, 10, seed=1)
    fits = est.fits
    est.on_mid(30_000.0, t + FUTURE)
    est.maybe_refit(t + FUTURE)
    flow(est, t, 10, seed=2)                                   # honest again
    assert est.clock_resets == 1
    assert est.fits > fits + 50                                # refits resumed at once
    assert est.k == pytest.approx(0.15, rel=0.25) and est.a == pytest.approx(0.8, rel=0.3)


def test_a_trade_a_little_older_than_the_mid_counts_without_a_reset(K):
    est = K.IntensityEstimator([0.0, 1.0, 2.0], 60.0, 1.0, 1.0, 1.0, min_arrivals=1)
    est.on_mid(100.0, 10.0)
    est.on_trade(101.5, 1, 9.5)                                # the trade's stamp lags the mid's
    assert est.arrivals == 1 and est.clock_resets == 0


# ---- candles ---------------------------------------------------------------------------------------
def test_a_candle_opened_on_a_future_clock_still_closes_on_time(K):
    c = K.VolumeCandles(10.0, 60.0)
    c.on_trade(100.0, 1.0, 1, FUTURE)                          # opens the candle at the bogus time
    assert c.on_time(1_000.0) is False                         # the clock stepped back: start moves
    assert c.on_time(1_059.0) is False
    assert c.on_time(1_060.0) is True and c.n_closed == 1
    assert c.clock_resets == 1


# ---- markouts --------------------------------------------------------------------------------------
def test_a_fill_stamped_in_the_future_resolves_and_holds_nothing_back(K):
    m = K.Markout((1.0, 5.0), alpha=1.0)
    m.on_mid(100.0, 10.0)
    m.on_fill(1, 100.0, FUTURE)                                # bogus stamp
    m.on_fill(1, 100.0, 10.2)                                  # an honest fill behind it
    m.on_mid(101.0, 10.5)                                      # the bogus one is restamped at 10.5
    assert m.on_mid(102.0, 11.5) == 2                          # both resolve at 1 s on the real clock
    assert m.average(1, 0) == pytest.approx(2.0) and m.clock_resets == 1
    assert m.on_mid(103.0, 15.5) == 2


def test_mids_that_leap_forward_resolve_what_is_due(K):
    m = K.Markout((1.0,), alpha=1.0)
    m.on_fill(-1, 100.0, 0.0)
    assert m.on_mid(99.0, FUTURE) == 1 and m.average(-1, 0) == pytest.approx(1.0)


# ---- the engine's market clock ---------------------------------------------------------------------
def engine(K, **over):
    params = dataclasses.replace(QuoteParams(candles=False, fee_aware=False), **over)
    return K.QuoteEngine(params, tick_size=1.0, amount_tick=0.001, min_amount=0.001)


def record(mid, exchange_s, receive_s, flags=0):
    rec = np.zeros(1, R.MD_DTYPE)
    rec["type"], rec["flags"] = R.MD_TICKER, flags
    rec["best_bid_price"], rec["best_ask_price"], rec["mark_price"] = mid - 0.5, mid + 0.5, mid
    rec["exchange_ts_ns"] = T0_NS + int(exchange_s * 1e9) if exchange_s is not None else 0
    rec["receive_ts_ns"] = int(receive_s * 1e9)
    return rec


def run(e, rec):
    out = np.zeros(1, R.QUOTE_DTYPE)
    return e.quote(rec, 0.0, 0.0, 0.0, out), out[0]


def test_a_mark_timestamp_that_moves_once_a_second_still_drives_the_estimators(K):
    e = engine(K)
    rng = np.random.default_rng(2)
    mid = 50_000.0
    for i in range(100):                                       # ten raw tickers per mark second
        mid += float(rng.normal(0, 1.0))
        run(e, record(round(mid), exchange_s=float(i // 10), receive_s=100.0 + 0.1 * i))
    assert e.vol.samples > 80                                  # not 9: receive time fills the second
    assert e.market_time_s == pytest.approx(T0_NS * 1e-9 + 9.9, abs=1e-5)


def test_the_mark_second_and_receive_time_keep_one_forward_clock(K):
    e = engine(K)
    times = []
    for i, (ex, rx) in enumerate([(0.0, 0.0), (0.0, 0.4), (1.0, 0.9), (1.0, 1.5), (1.0, 1.6), (2.0, 2.0)]):
        run(e, record(50_000.0 + i, ex, rx))
        times.append(e.market_time_s - T0_NS * 1e-9)
    assert times == pytest.approx([0.0, 0.4, 1.0, 1.6, 1.7, 2.1], abs=1e-5)   # never behind what we saw
    assert all(b >= a for a, b in zip(times, times[1:]))


def test_a_future_stamp_moves_the_clock_once_then_it_resyncs_and_a_jump_pulls(K):
    e = engine(K, sigma_floor=2.0, sigma_ceiling=2.0, requote_tolerance_ticks=50.0)
    for i in range(20):
        run(e, record(50_000.0, i * 0.1, i * 0.1))
    run(e, record(50_000.0, FUTURE, 2.0))                      # the lie
    for i in range(21, 40):
        status, o = run(e, record(50_000.0, i * 0.1, i * 0.1))
    assert e.clock_resyncs == 1
    assert e.market_time_s == pytest.approx(T0_NS * 1e-9 + 3.9, abs=1e-5)
    assert o["n_asks"] > 0 and o["n_bids"] > 0                  # quoting both sides, not pulled forever
    status, o = run(e, record(50_300.0, 4.0, 4.0))             # then a real jump
    assert o["flags"] & R.QUOTE_FLAG_FAST_CANCEL and o["n_asks"] == 0


def test_a_stale_record_from_a_feed_that_refused_the_data_pulls_as_implausible(K):
    e = engine(K)
    run(e, record(50_000.0, 0.0, 0.0))
    status, o = run(e, record(50_000.0, 0.0, 3.0, flags=R.MD_FLAG_STALE | R.MD_FLAG_IMPLAUSIBLE))
    assert status == K.ENGINE_PULLED and o["reason"] == R.QUOTE_REASON_IMPLAUSIBLE
    status, o = run(e, record(50_000.0, 3.0, 3.1))             # good data again: quoting resumes
    assert status == K.ENGINE_PUBLISHED and o["n_bids"] > 0


# ---- twins agree on a clock that lies ----------------------------------------------------------------
def lying_times(n, seed):
    """Mostly forward steps; some zero, some small steps back, a few huge leaps either way."""
    rng = np.random.default_rng(seed)
    t, out = 1_000.0, []
    for _ in range(n):
        r = rng.random()
        if r < 0.01:
            out.append(t + float(rng.choice([FUTURE, -FUTURE, 3600.0, -3600.0])))
            continue                                           # one record on the bogus clock
        t += 0.0 if r < 0.1 else (-float(rng.exponential(0.5)) if r < 0.15 else float(rng.exponential(0.1)))
        out.append(t)
    return out


def test_compiled_and_twin_agree_on_a_lying_clock(C, P):
    rng = np.random.default_rng(12)
    times = lying_times(4000, 13)
    objs = [(K.EwmaVariance(5.0, 1.0), K.IntensityEstimator([0.0, 1.0, 2.0, 4.0], 60.0, 1.0, 1.0, 0.5, 5),
             K.VolumeCandles(2.0, 3.0), K.MoveGuard(1.0, 5.0, 3.0, 3.0, 1.0, capacity=64),
             K.Markout((1.0, 5.0), capacity=64)) for K in (C, P)]
    mid = 100.0
    for t in times:
        mid += float(rng.normal(0, 0.5))
        trade = mid + float(rng.normal(0, 2.0))
        side = int(rng.choice([-1, 1]))
        fill = rng.random() < 0.05
        results = []
        for vol, inten, candles, guard, markout in objs:
            sigma = vol.update(mid, t)
            inten.on_mid(mid, t)
            inten.on_trade(trade, side, t)
            inten.maybe_refit(t)
            closed = candles.on_trade(trade, 0.3, side, t)
            state = guard.update(mid, t, sigma)
            if fill:
                markout.on_fill(side, mid, t)
            resolved = markout.on_mid(mid, t)
            results.append((sigma, inten.a, inten.k, closed, candles.momentum, state, resolved))
        for a, b in zip(*results):
            assert close(a, b), results
    for c, p in zip(*objs):
        assert c.clock_resets == p.clock_resets > 0, type(c).__name__
