"""Plausibility of market data: the clock, the order and the band, for the kernel and its twin."""
import math

import numpy as np
import pytest

import kernels.plausibility as V
import kernels.twins.plausibility as twin
from shm import records as R

NOW_NS = 1_800_000_000 * 10**9
S = 10**9


def ticker(mark=100_000.0, index=None, bid=None, ask=None, ts=NOW_NS, iid=0, kind=R.MD_TICKER):
    rec = np.zeros(1, R.MD_DTYPE)
    rec["type"], rec["instrument_id"], rec["exchange_ts_ns"] = kind, iid, ts
    rec["mark_price"] = mark
    rec["index_price"] = mark if index is None else index
    rec["best_bid_price"] = mark - 1.0 if bid is None else bid
    rec["best_ask_price"] = mark + 1.0 if ask is None else ask
    return rec


def trade(price, ts=NOW_NS, iid=0):
    rec = np.zeros(1, R.TRADE_DTYPE)
    rec["type"], rec["instrument_id"], rec["exchange_ts_ns"], rec["price"] = R.TRADE_PUBLIC, iid, ts, price
    return rec


def make(K, **over):
    args = dict(n_instruments=2, max_clock_skew_s=1.0, max_data_age_s=10.0, price_band_bps=500.0,
                index_band_bps=1000.0, reanchor_after_s=5.0)
    args.update(over)
    return K.MdPlausibility(*args.values())


def test_the_twin_uses_the_same_codes():
    names = ("PLAUSIBLE", "CLOCK_AHEAD", "TOO_OLD", "OUT_OF_ORDER", "OFF_BAND", "GOOD_AGAIN", "REANCHORED")
    assert [getattr(V, n) for n in names] == [getattr(twin, n) for n in names] == list(range(7))


def test_a_sane_ticker_is_plausible_and_becomes_the_last_good_mark(K):
    p = make(K)
    assert p.check_md(ticker(), NOW_NS, 0) == V.PLAUSIBLE
    assert p.good_mark[0] == 100_000.0 and math.isnan(p.good_mark[1]) and list(p.counts) == [0] * 5


@pytest.mark.parametrize("offset_s,reason", [(2, "CLOCK_AHEAD"), (10**6, "CLOCK_AHEAD"), (-11, "TOO_OLD"),
                                             (0.9, "PLAUSIBLE"), (-9, "PLAUSIBLE")])
def test_the_exchange_time_is_checked_against_our_clock(K, offset_s, reason):
    assert make(K).check_md(ticker(ts=NOW_NS + int(offset_s * S)), NOW_NS, 0) == getattr(V, reason)


def test_older_than_the_newest_of_its_type_is_out_of_order_equal_is_not(K):
    p = make(K)
    assert p.check_md(ticker(ts=NOW_NS), NOW_NS, 0) == V.PLAUSIBLE
    assert p.check_md(ticker(100_001.0, ts=NOW_NS), NOW_NS, 0) == V.PLAUSIBLE      # the mark's second
    assert p.check_md(ticker(99_800.0, ts=NOW_NS - S // 2), NOW_NS, 0) == V.OUT_OF_ORDER
    assert p.check_md(ticker(ts=NOW_NS - S // 2, iid=1), NOW_NS, 0) == V.PLAUSIBLE  # another instrument
    p.forget_order()
    assert p.check_md(ticker(ts=NOW_NS - S // 2), NOW_NS, 0) == V.GOOD_AGAIN
    assert p.episode_refused == 1


def test_a_ten_times_mark_and_a_book_far_from_its_mark_are_off_band(K):
    p = make(K)
    p.check_md(ticker(), NOW_NS, 0)
    assert p.check_md(ticker(1_000_000.0, index=100_000.0), NOW_NS, 0) == V.OFF_BAND   # vs its index
    assert p.check_md(ticker(1_000_000.0), NOW_NS, 0) == V.OFF_BAND                    # vs the last good
    assert p.check_md(ticker(bid=90_000.0), NOW_NS, 0) == V.OFF_BAND                   # book vs mark
    assert p.check_md(ticker(bid=math.nan), NOW_NS, 0) == V.GOOD_AGAIN                 # an empty side is fine
    assert list(p.counts) == [0, 0, 0, 0, 3] and p.episode_refused == 3 and p.refused[0] == 0


def test_book_and_index_records_are_held_to_the_last_good_mark(K):
    p = make(K)
    assert p.check_md(ticker(math.nan, index=math.nan, bid=50_000.0, ask=50_010.0, kind=R.MD_BOOK), NOW_NS, 0) \
        == V.PLAUSIBLE                                                         # no good mark yet
    p.check_md(ticker(), NOW_NS, 0)
    assert p.check_md(ticker(math.nan, index=math.nan, bid=50_000.0, ask=50_010.0, kind=R.MD_BOOK),
                      NOW_NS, 0) == V.OFF_BAND
    assert p.check_md(ticker(math.nan, index=108_000.0, bid=math.nan, ask=math.nan, kind=R.MD_INDEX),
                      NOW_NS, 0) == V.GOOD_AGAIN                                # basis within index band


def test_a_real_move_beyond_the_band_is_accepted_once_it_held_consistently(K):
    p = make(K, price_band_bps=100.0)
    assert p.check_md(ticker(), NOW_NS, 1 * S) == V.PLAUSIBLE
    for t in (2, 4, 6.9):                                                      # -3 %, index and book agree
        assert p.check_md(ticker(97_000.0), NOW_NS, int(t * S)) == V.OFF_BAND
    assert p.check_md(ticker(97_000.0), NOW_NS, 7 * S) == V.REANCHORED
    assert p.good_mark[0] == 97_000.0 and p.episode_refused == 3
    assert p.check_md(ticker(97_010.0), NOW_NS, 7 * S) == V.PLAUSIBLE


def test_a_good_mark_in_between_restarts_the_reanchoring_clock(K):
    p = make(K, price_band_bps=100.0)
    p.check_md(ticker(), NOW_NS, 1 * S)
    p.check_md(ticker(97_000.0), NOW_NS, 2 * S)
    p.check_md(ticker(100_010.0), NOW_NS, 3 * S)                               # the old level again
    assert p.check_md(ticker(97_000.0), NOW_NS, 8 * S) == V.OFF_BAND           # a new episode starts


def test_public_trades_are_held_to_the_clock_and_the_last_good_mark(K):
    p = make(K)
    assert p.check_trade(trade(1_000_000.0), NOW_NS) == V.PLAUSIBLE             # no mark yet
    p.check_md(ticker(), NOW_NS, 0)
    assert [p.check_trade(t, NOW_NS) for t in (trade(100_010.0), trade(1_000_000.0),
                                               trade(100_000.0, NOW_NS + 10**6 * S),
                                               trade(100_000.0, NOW_NS - 60 * S))] \
        == [V.PLAUSIBLE, V.OFF_BAND, V.CLOCK_AHEAD, V.TOO_OLD]
    assert p.refused[0] == 0                                                   # trades are not an episode


def test_an_instrument_it_does_not_know_is_not_judged_and_bad_settings_are_refused(K):
    assert make(K).check_md(ticker(ts=0, iid=7), NOW_NS, 0) == V.PLAUSIBLE
    with pytest.raises(ValueError, match="price_band_bps=0"):
        make(K, price_band_bps=0.0)
    with pytest.raises(TypeError, match="md"):
        make(K).check_md(np.zeros(1, R.TRADE_DTYPE), NOW_NS, 0)


def test_compiled_and_twin_agree_on_a_hostile_stream(C, P):
    rng = np.random.default_rng(21)
    c, p = make(C, price_band_bps=50.0), make(P, price_band_bps=50.0)
    ts, mark = NOW_NS, 100_000.0
    for i in range(5000):
        ts += int(rng.exponential(0.1) * S)
        mark += float(rng.normal(0, 20.0))
        r = rng.random()
        rec = ticker(mark, iid=int(rng.integers(0, 3)), ts=ts)
        if r < 0.05:
            rec["exchange_ts_ns"] = ts + int(rng.choice([-20, -3, 2, 10**6]) * S)
        elif r < 0.1:
            rec["mark_price"] = mark * float(rng.choice([0.1, 10.0, 0.97, 1.03]))
        elif r < 0.12:
            rec["best_bid_price"] = math.nan
        elif r < 0.14:
            rec["type"] = R.MD_BOOK
            rec["mark_price"] = math.nan
        wall, mono = ts + int(rng.normal(0, 0.2) * S), i * 10**8
        assert c.check_md(rec, wall, mono) == p.check_md(rec, wall, mono), i
        t = trade(mark * float(rng.choice([1.0, 1.001, 10.0])), ts + int(rng.choice([0, 0, 10**6]) * S))
        assert c.check_trade(t, wall) == p.check_trade(t, wall)
    assert list(c.counts) == list(p.counts) and min(list(c.counts)[1:]) > 0
    assert list(c.refused) == list(p.refused) and list(c.good_mark) == list(p.good_mark)
