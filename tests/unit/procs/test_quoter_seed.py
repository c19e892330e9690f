"""Seeding the estimators from the exchange's history (procs/quoter_seed.py): sigma from 1m mark
bars robust to jumps, A and k from a trade snapshot measured from the mid its sweeps imply, every
trade at its own time (never as arrivals of the present), and live duplicates of history dropped."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.params import QuoteParams
from kernels.quote import QuoteEngine
from procs.quoter_seed import MIN_BARS, TradeDedup, half_spread, seed_engine, sigma_from_bars, sweeps_of
from shm.records import TRADE_DTYPE
from sim.engine import Engine
from sim.history import MarkHistory, run_past
from sim.instruments import default_instruments
from sim.market import Market
from venue.decode.history import mark_bars
from venue.decode.market import trades_into

NOW = 1_800_000_000.0
BTC = "BTC-PERPETUAL"


def brownian_bars(n, sigma, seed, hz=10, jump_rate=0.0, jump_sd=0.0, start=NOW - 3600):
    """n one-minute OHLC bars of a mid sampled ``hz`` times a second, with compound-Poisson jumps."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, sigma / math.sqrt(hz), (n, 60 * hz))
    steps += (rng.random(steps.shape) < jump_rate / hz) * rng.normal(0, jump_sd, steps.shape)
    path = 100_000 + np.cumsum(steps.ravel()).reshape(n, -1)
    opens = np.concatenate([[100_000.0], path[:-1, -1]])
    return np.column_stack([start + 60 * np.arange(n), opens, np.maximum(path.max(1), opens),
                            np.minimum(path.min(1), opens), path[:, -1]])


@pytest.mark.parametrize("seed", range(5))
def test_sigma_from_an_hour_of_bars_is_within_10_percent_through_the_local_exchanges_jumps(seed):
    # sim/market.py: a jump every 300 s on average, N(0, 30 sigma): three times the diffusion's variance
    bars = brownian_bars(60, 5.0, seed, jump_rate=1 / 300, jump_sd=150.0)
    sigma, used, jumps = sigma_from_bars(bars, NOW)
    assert sigma == pytest.approx(5.0, rel=0.10) and used + jumps == 60
    plain = math.sqrt(np.mean(np.diff(np.concatenate([[bars[0, 1]], bars[:, 4]])) ** 2) / 60)
    assert plain > 1.3 * 5.0 or jumps == 0          # what close-to-close returns would have said


def test_only_complete_bars_count_and_too_few_leave_the_prior():
    bars = brownian_bars(MIN_BARS + 1, 5.0, 1, start=NOW - 60 * MIN_BARS)    # the last one is in progress
    assert sigma_from_bars(bars, NOW)[1] == MIN_BARS
    assert math.isnan(sigma_from_bars(bars[:MIN_BARS - 1], NOW)[0])


def trades(rows, iid=0):
    out = np.zeros(len(rows), TRADE_DTYPE)
    assert trades_into([list(r) for r in rows], iid, out, 0, 0, {BTC: iid}) == len(rows)
    return out


def test_a_sweep_is_the_prints_of_one_time_and_side_and_starts_at_the_best_level():
    t = NOW - 10
    rows = [[100_006, 0.1, "buy", t, BTC], [100_011, 0.2, "buy", t, BTC], [100_016, 0.1, "buy", t, BTC],
            [99_994, 0.1, "sell", t + 1, BTC], [99_989, 0.1, "sell", t + 1, BTC], [100_006, 0.1, "buy", t + 1.5, BTC]]
    sweeps = sweeps_of(trades(rows))
    assert [(s.side, s.best, len(s.prices)) for s in sweeps] == [(1, 100_006, 3), (-1, 99_994, 2), (1, 100_006, 1)]
    assert half_spread(sweeps, 1.0) == 6.0


def local_exchange_past(seconds, flow_rate=2.0, seed=3, kept=3000):
    engine = Engine(default_instruments(), recent_trades_kept=kept)
    market = Market(engine, seed=seed, flow_rate=flow_rate)
    history = MarkHistory(engine, market)
    run_past(engine, market, history, seconds, 0.1, now=NOW)
    rows = sorted(engine.recent_trades[BTC], key=lambda r: r[3])
    bars, _ = mark_bars({"mark": history.rows(BTC, NOW - seconds, NOW, "1m")})
    return trades(rows), bars, market.fair(BTC)


@pytest.fixture(scope="module")
def past():
    return local_exchange_past(420)


def test_a_and_k_from_the_local_exchanges_trades_are_near_its_truth(past):
    history_trades, bars, fair = past
    # depths on the local exchange's levels (5 USD apart): arrivals reaching between two levels
    # print at the shallower one, which on the default grid reads as a lower A (about 0.8 x)
    params = QuoteParams(intensity_depths_ticks=(4, 9, 14, 19, 24, 29, 34, 39))
    engine = QuoteEngine(params, 1.0, 0.001, 0.001)
    report = seed_engine(engine, history_trades, bars, NOW, 1.0)
    assert report.fitted and report.arrivals > 300
    assert engine.intensity.a == pytest.approx(2.0, rel=0.25)                   # flow_rate per side
    assert engine.intensity.k == pytest.approx(1 / (2e-4 * fair), rel=0.25)     # 1 / mean reach
    assert engine.vol.sigma() == pytest.approx(5.0, rel=0.25) and report.bars_used >= MIN_BARS


def test_history_is_booked_at_its_own_times_and_expires_from_the_window_at_its_own_age(past):
    history_trades, _, _ = past
    old = history_trades[history_trades["exchange_ts_ns"] < (NOW - 150) * 1e9]     # over 150 s old
    params = QuoteParams(intensity_window_s=300.0, intensity_min_arrivals=20)
    engine = QuoteEngine(params, 1.0, 0.001, 0.001)
    report = seed_engine(engine, old, None, NOW, 1.0)
    assert report.fitted and report.arrivals > 20
    est = engine.intensity
    est.on_mid(100_000.0, NOW + 200)     # they are over 350 s old now: out of the 300 s window.
    assert sum(sum(row) for row in est.state()["counts"]) == 0 and not est.refit()
    # (booked at the present, every one of them would still be in the window)


def test_the_time_between_the_snapshot_and_the_first_live_record_is_not_exposure(past):
    history_trades, _, _ = past
    engine = QuoteEngine(QuoteParams(), 1.0, 0.001, 0.001)
    seed_engine(engine, history_trades, None, NOW, 1.0)
    before = sum(engine.intensity.state()["exposure"])
    engine.intensity.on_mid(100_000.0, NOW + 30)       # the first live mid, 30 s later
    assert sum(engine.intensity.state()["exposure"]) == pytest.approx(before)


def test_live_trades_already_in_the_history_are_dropped_until_live_moves_past_it():
    t = NOW - 5
    history = {0: trades([[100_006, 0.1, "buy", t, BTC], [99_994, 0.2, "sell", t + 1, BTC]])}
    dedup = TradeDedup(history)
    live = trades([[99_994, 0.2, "sell", t + 1, BTC], [99_995, 0.2, "sell", t + 1, BTC],
                   [100_007, 0.1, "buy", t + 2, BTC], [100_006, 0.1, "buy", t, BTC]])
    assert [dedup.seen(tr) for tr in live] == [True, False, False, False]
    assert dedup.dropped == 1 and dedup.done      # the third was newer than any history trade


def test_seeding_from_nothing_changes_nothing():
    engine = QuoteEngine(QuoteParams(), 1.0, 0.001, 0.001)
    report = seed_engine(engine, trades([]), np.zeros((0, 5)), NOW, 1.0)
    assert not report.fitted and math.isnan(report.sigma)
    assert (engine.vol.sigma(), engine.intensity.a, engine.intensity.k) == (5.0, 1.0, 0.1)
