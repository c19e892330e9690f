"""The whole engine on a synthetic market with known sigma and a 250 USD jump: the sigma it
quotes stays within 10 % of the truth through the jump, and the k it quotes (the intensity fit
tilted by the candles) does not flip on noise. With the cap and the tilt's smoothing and deadband
switched off (the seed's estimators) the same stream shows the paper run's symptoms."""
import dataclasses
import math

import numpy as np
import pytest

from kernels.params import QuoteParams
from shm import records as R

SIGMA, DT, JUMP_AT_S = 5.0, 0.1, 300.0
STEADY = QuoteParams(intensity_min_arrivals=30)
SEED_DESIGN = dataclasses.replace(STEADY, vol_jump_sigmas=0.0, candle_smoothing=1.0, candle_deadband=0.0)


def run(K, params, seconds=600.0, seed=3):
    """(t, sigma, k) the engine quoted for every market record of the stream."""
    rng = np.random.default_rng(seed)
    engine = K.QuoteEngine(params, 1.0, 0.001, 0.001)
    md, out = np.zeros(1, R.MD_DTYPE), np.zeros(1, R.QUOTE_DTYPE)
    md["type"] = R.MD_TICKER
    mid, t0, rows = 100_000.0, 1_800_000_000.0, []
    for i in range(int(seconds / DT)):
        t = t0 + i * DT
        mid += rng.normal(0.0, SIGMA * math.sqrt(DT)) + (250.0 if i == int(JUMP_AT_S / DT) else 0.0)
        md["best_bid_price"], md["best_ask_price"], md["mark_price"] = mid - 2.5, mid + 2.5, mid
        md["exchange_ts_ns"] = md["receive_ts_ns"] = int(t * 1e9)
        engine.quote(md, 0.0, 0.0, 0.0, out)
        rows.append((t - t0, float(out["sigma"][0]), float(out["intensity_k"][0])))
        for side in (1, -1):                       # market orders: A = 2/s, k = 0.05/USD
            for _ in range(rng.poisson(2.0 * DT)):
                engine.on_trade(mid + side * (2.5 + rng.exponential(20.0)), float(rng.exponential(0.2)), side, t)
    return np.array(rows)


def k_moves(rows, since_s=120.0):
    """Changes of the quoted k by more than 10 %, after the first fits."""
    k = rows[rows[:, 0] > since_s, 2]
    return int(np.count_nonzero(np.abs(np.diff(k)) > 0.1 * k[:-1]))


@pytest.mark.parametrize("seed", [3, 5])
def test_the_quoted_sigma_stays_within_10_percent_through_a_jump_and_k_does_not_flicker(K, seed):
    rows = run(K, STEADY, seed=seed)
    around = rows[(rows[:, 0] > JUMP_AT_S - 60) & (rows[:, 0] < JUMP_AT_S + 120)]
    assert np.abs(around[:, 1] / SIGMA - 1.0).max() < 0.10
    assert k_moves(rows) <= 30                    # refits and the odd real tilt in 8 minutes (0-24 seen)


@pytest.mark.parametrize("seed", [3, 5])
def test_the_seed_design_on_the_same_stream_overreacts_and_flickers(K, seed):
    rows = run(K, SEED_DESIGN, seed=seed)
    after = rows[(rows[:, 0] > JUMP_AT_S) & (rows[:, 0] < JUMP_AT_S + 60)]
    assert after[:, 1].max() > 4 * SIGMA          # sigma 5 -> over 20 for a minute (38 seen)
    assert k_moves(rows) > 100                    # about 140 flips in 8 minutes
