"""Known answers: one small hand-written event sequence per fill rule, on the compiled core and
on its pure-Python twin (both must give the same reports)."""
import numpy as np
import pytest

from backtest.core import Core
from backtest.core_twin import Core as CoreTwin
from backtest.events import (ACTION_AMEND, ACTION_INSERT, ASK_DEPTH, BID_DEPTH, BUY_TRADE, EVENT_DTYPE,
                             EXCH, LOCAL, QUEUE_POWER, REJECT_POST_ONLY, REPORT_ACK, REPORT_AMENDED,
                             REPORT_FILL, REPORT_REJECT, SELL_TRADE, STOP_END)

MS = 1_000_000
BOOK = [(0, BID_DEPTH, 99.0, 5.0), (0, ASK_DEPTH, 101.0, 5.0)]


def events(rows, feed_ns=0):
    out = np.zeros(len(rows), EVENT_DTYPE)
    for i, (ts, kind, price, qty) in enumerate(rows):
        out[i] = (ts, ts + feed_ns, price, qty, kind, EXCH | LOCAL)
    return out


def replay(cls, rows, orders, **kw):
    """Feed ``rows``; ``orders`` are (local send ts, action, oid, side, price, amount)."""
    core = cls(1.0, 0.001, entry_ns=kw.pop("entry_ns", 1 * MS), response_ns=kw.pop("response_ns", 1 * MS), **kw)
    for ts, action, oid, side, price, amount in orders:
        core.submit(action, oid, side, price, amount, ts)
    core.feed(events(rows), True)
    assert core.run(2**62) == STOP_END
    return core.take_reports()


def fills(reports):
    f = reports[reports["kind"] == REPORT_FILL]
    return [(int(r["order_id"]), float(r["price"]), round(float(r["amount"]), 6), int(r["exch_ts"])) for r in f]


both = pytest.mark.parametrize("cls", [Core, CoreTwin], ids=["compiled", "twin"])


@both
def test_a_trade_through_our_price_fills_the_whole_order_whatever_its_size(cls):
    rows = BOOK + [(10 * MS, SELL_TRADE, 98.0, 0.001)]
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])) == [(1, 99.0, 0.5, 10 * MS)]


@both
def test_a_trade_at_our_price_fills_only_once_the_queue_ahead_is_consumed(cls):
    rows = BOOK + [(10 * MS, SELL_TRADE, 99.0, 5.0),      # exactly what was ahead: not yet us
                   (20 * MS, SELL_TRADE, 99.0, 0.002)]    # now us
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])) == [(1, 99.0, 0.5, 20 * MS)]


@both
def test_a_trade_at_our_price_with_nobody_ahead_fills_at_once(cls):
    rows = BOOK + [(10 * MS, SELL_TRADE, 98.0 + 1, 0.001)]
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0 - 1, 0.5)])) == []   # 5 ahead at 99
    rows = BOOK + [(10 * MS, SELL_TRADE, 100.0, 0.001)]
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0, 0.5)])) == [(1, 100.0, 0.5, 10 * MS)]


@both
def test_the_opposite_best_crossing_our_price_fills_us(cls):
    rows = BOOK + [(10 * MS, ASK_DEPTH, 100.0, 1.0)]       # the best ask comes down onto our bid
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0, 0.5)])) == [(1, 100.0, 0.5, 10 * MS)]


@both
def test_a_shrinking_level_moves_us_up_the_queue(cls):
    rows = BOOK + [(10 * MS, BID_DEPTH, 99.0, 2.0),       # cancellations: only 2 can be ahead now
                   (20 * MS, SELL_TRADE, 99.0, 2.5)]
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])) == [(1, 99.0, 0.5, 20 * MS)]
    rows = BOOK + [(20 * MS, SELL_TRADE, 99.0, 2.5)]      # without the shrink: 5 ahead, no fill
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])) == []


@both
def test_a_post_only_order_that_would_cross_on_arrival_is_rejected(cls):
    # Sent while 101 was the best ask ... which is 100 by the time the order arrives (1 ms later).
    rows = BOOK + [(0, ASK_DEPTH, 100.0, 1.0)]
    rows = [(0, BID_DEPTH, 99.0, 5.0), (0, ASK_DEPTH, 101.0, 5.0), (MS // 2, ASK_DEPTH, 100.0, 1.0)]
    r = replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0, 0.5)])
    assert [int(k) for k in r["kind"]] == [REPORT_REJECT]
    assert int(r["reason"][0]) == REJECT_POST_ONLY and int(r["local_ts"][0]) == 2 * MS


@both
def test_at_equal_times_market_data_reaches_the_exchange_before_our_order(cls):
    # The trade prints at the instant our order arrives: it was not resting yet, so no fill.
    rows = BOOK + [(1 * MS, SELL_TRADE, 98.0, 1.0), (5 * MS, SELL_TRADE, 98.0, 1.0)]
    r = replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])
    assert fills(r) == [(1, 99.0, 0.5, 5 * MS)]
    ack = r[r["kind"] == REPORT_ACK][0]
    assert int(ack["exch_ts"]) == 1 * MS and int(ack["local_ts"]) == 2 * MS   # entry, then response latency
    assert int(r[r["kind"] == REPORT_FILL][0]["local_ts"]) == 6 * MS


@both
def test_partial_fills_take_what_the_trade_leaves_after_the_queue(cls):
    # At our price: what the trade leaves beyond the queue ahead (none here, no bid at 100).
    # Through our price: all that rests (the aggressor swept our level first), as hftbacktest.
    rows = BOOK + [(10 * MS, SELL_TRADE, 100.0, 0.3), (15 * MS, SELL_TRADE, 100.0, 0.2),
                   (20 * MS, SELL_TRADE, 99.0, 0.1)]
    got = fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0, 1.0)], partial=True))
    assert got == [(1, 100.0, 0.3, 10 * MS), (1, 100.0, 0.2, 15 * MS), (1, 100.0, 0.5, 20 * MS)]
    r = replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 100.0, 1.0)], partial=True)
    assert [round(float(x), 6) for x in r[r["kind"] == REPORT_FILL]["leaves"]] == [0.7, 0.5, 0.0]


@both
def test_an_amend_keeps_priority_only_at_the_same_price_and_no_larger(cls):
    rows = BOOK + [(10 * MS, BID_DEPTH, 99.0, 8.0), (20 * MS, SELL_TRADE, 99.0, 5.5)]
    keep = [(0, ACTION_INSERT, 1, 1, 99.0, 0.5), (5 * MS, ACTION_AMEND, 1, 1, 99.0, 0.4)]
    assert fills(replay(cls, rows, keep)) == [(1, 99.0, 0.4, 20 * MS)]      # still 5 ahead
    lose = [(0, ACTION_INSERT, 1, 1, 99.0, 0.5), (15 * MS, ACTION_AMEND, 1, 1, 99.0, 0.6)]
    r = replay(cls, rows, lose)
    assert fills(r) == [] and REPORT_AMENDED in r["kind"]                    # back of 8: not reached


@both
def test_the_power_queue_model_credits_us_with_a_share_of_cancellations(cls):
    # 5 ahead, nobody behind: every cancellation is ahead of us (prob = 0 -> front - chg).
    rows = BOOK + [(10 * MS, BID_DEPTH, 99.0, 8.0),        # 3 join behind us
                   (20 * MS, BID_DEPTH, 99.0, 4.0),        # 4 cancel: power 2 -> some from behind
                   (30 * MS, SELL_TRADE, 99.0, 3.0)]
    got_power = fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)], queue_model=QUEUE_POWER,
                             queue_power=2.0))
    # front 5, back 3: p = 9/34; est = 5 - (1 - 9/34) * 4 + min(3 - 36/34, 0) = 2.0588 -> trade 3 fills
    assert got_power == [(1, 99.0, 0.5, 30 * MS)]
    assert fills(replay(cls, rows, [(0, ACTION_INSERT, 1, 1, 99.0, 0.5)])) == []   # risk averse: 4 ahead
