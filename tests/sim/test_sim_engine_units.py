"""The exchange's parts in-process (no sockets): book priority, accounting, market model."""
from __future__ import annotations

import numpy as np
import pytest

from sim.accounts import Position
from sim.engine import Engine
from sim.errors import ApiError
from sim.feeds import Feeds
from sim.instruments import default_instruments, next_quarterly_expiry
from sim.market import Market
from sim.session import Session

BTC = "BTC-PERPETUAL"


def engine_with_session():
    engine = Engine(default_instruments())
    session = Session(remote="127.0.0.1")
    session.account = engine.account("A1")
    return engine, session


def limit(direction, price, amount, **extra):
    return {"direction": direction, "instrument_name": BTC, "price": price, "amount": amount, **extra}


def test_orders_at_one_price_fill_oldest_first_and_better_prices_before_worse():
    engine, s = engine_with_session()
    first = engine.insert(s, limit("sell", 100_010, 0.01))
    second = engine.insert(s, limit("sell", 100_010, 0.01))
    better = engine.insert(s, limit("sell", 100_005, 0.01))
    taker = engine.insert(s, limit("buy", 100_010, 0.02))
    assert [f["price"] for f in taker["fills"]] == [100_005, 100_010]
    live = s.account.orders
    assert better["order_id"] not in live and first["order_id"] not in live
    assert second["order_id"] in live


def test_a_buy_limit_below_the_best_ask_rests_and_does_not_trade():
    engine, s = engine_with_session()
    engine.insert(s, limit("sell", 100_010, 0.01))
    status = engine.insert(s, limit("buy", 100_009, 0.01))
    assert status["status"] == "open" and status["fills"] == []
    assert engine.books[BTC].best(True) == 100_009 and engine.books[BTC].best(False) == 100_010


def test_an_ioc_remainder_is_cancelled_not_rested():
    engine, s = engine_with_session()
    engine.insert(s, limit("sell", 100_010, 0.01))
    status = engine.insert(s, limit("buy", 100_010, 0.03, time_in_force="immediate_or_cancel"))
    assert status["status"] == "cancelled_partially_filled" and status["filled_amount"] == 0.01
    assert engine.books[BTC].best(True) is None


def test_a_post_only_buy_priced_to_zero_or_below_is_cancelled():
    engine, s = engine_with_session()
    engine.insert(s, limit("sell", 1, 0.01, collar="ignore"))
    status = engine.insert(s, limit("buy", 5, 0.01, post_only=True))
    assert status["status"] == "cancelled" and status["delete_reason"] == "immediate_cancel"


def test_reduce_only_is_clipped_to_the_open_position():
    engine, s = engine_with_session()
    engine.insert(s, limit("sell", 100_000, 0.05))
    engine.insert(s, limit("buy", 100_000, 0.02))          # self-trade: long 0.02 and short 0.02
    s.account.positions[BTC].position = 0.02
    status = engine.insert(s, limit("sell", 110_000, 0.5, reduce_only=True, collar="ignore"))
    assert status["amount"] == 0.02 and status["reduce_only"] is True


@pytest.mark.parametrize("trades,avg,realised", [
    ([(1, 100), (1, 110)], 105, 0),                 # adding: weighted average
    ([(2, 100), (-1, 110)], 100, 10),               # reducing a long at a profit
    ([(-2, 100), (1, 110)], 100, -10),              # reducing a short at a loss
    ([(1, 100), (-3, 120)], 120, 20),               # flipping: remainder opens at the trade price
    ([(1, 100), (-1, 90)], 0, -10),                 # flat: no average left
])
def test_position_average_price_and_realised_pnl(trades, avg, realised):
    pos = Position(BTC)
    for amount, price in trades:
        pos.apply(amount, price)
    assert pos.average_price == pytest.approx(avg) and pos.realised_pnl == pytest.approx(realised)


def test_fees_are_charged_at_the_maker_and_taker_rates():
    engine, s = engine_with_session()
    other = Session(remote="127.0.0.1")
    other.account = engine.account("A2")
    engine.insert(other, limit("sell", 100_000, 0.1))
    engine.insert(s, limit("buy", 100_000, 0.1))
    assert other.account.trades[0]["fee"] == pytest.approx(100_000 * 0.1 * 0.0001)
    assert s.account.trades[0]["fee"] == pytest.approx(100_000 * 0.1 * 0.0005)
    assert s.account.cash == pytest.approx(1_000_000 - 5.0)


def test_an_amend_that_crosses_trades_immediately():
    engine, s = engine_with_session()
    engine.insert(s, limit("sell", 100_010, 0.01))
    engine.insert(s, limit("buy", 100_000, 0.01, client_order_id=1))
    status = engine.amend(s, {"client_order_id": 1, "price": 100_010, "amount": 0.01})
    assert status["status"] == "filled" and status["change_reason"] == "amend"


def test_a_missing_order_is_error_1_and_both_ids_is_error_6():
    engine, s = engine_with_session()
    with pytest.raises(ApiError) as e:
        engine.cancel(s, {"client_order_id": 9})
    assert e.value.code == 1
    with pytest.raises(ApiError) as e:
        engine.cancel(s, {"client_order_id": 9, "order_id": "9"})
    assert e.value.code == 6


def _run(seed, steps=200):
    engine = Engine(default_instruments())
    market = Market(engine, seed=seed)
    for _ in range(steps):
        market.step(0.1)
    return market.index("BTCUSD"), engine.books[BTC].levels(True, 3), engine.volume[BTC]


def test_the_market_is_reproducible_from_its_seed():
    assert _run(7) == _run(7)
    assert _run(7) != _run(8)


def test_the_index_moves_with_the_configured_volatility():
    engine = Engine(default_instruments())
    market = Market(engine, seed=3, volatility=5.0, flow_rate=0, jump_rate=0)
    path = []
    for _ in range(2000):
        market.step(0.1)
        path.append(market.index("BTCUSD"))
    per_sqrt_s = np.std(np.diff(path)) / np.sqrt(0.1)
    assert 4.5 < per_sqrt_s < 5.5


def test_fills_get_rarer_with_distance_from_the_fair_price():
    """Background flow reaches a distance delta with probability exp(-k delta): a small ask kept
    at fair+5 is hit far more often than one kept at fair+40 (mean reach 20 USD)."""
    hits = {}
    for offset in (5, 40):
        engine, s = engine_with_session()
        market = Market(engine, seed=11, volatility=0.0, flow_rate=5.0)
        for _ in range(600):
            if not s.account.orders:
                engine.insert(s, limit("sell", 100_000 + offset, 0.01))
            market.step(0.1)
        hits[offset] = len(s.account.trades)
    assert hits[5] > 3 * hits[40] > 0


def test_the_dated_future_is_the_next_quarterly_last_friday_at_08_utc():
    import datetime as dt
    expiry = next_quarterly_expiry(dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))
    assert (expiry.year, expiry.month, expiry.day, expiry.hour) == (2026, 12, 25, 8)
    expiry = next_quarterly_expiry(dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc))
    assert (expiry.year, expiry.month, expiry.day) == (2027, 3, 26)


def test_an_amend_refused_by_the_collar_leaves_the_order_resting_as_it_was():
    engine, s = engine_with_session()
    status = engine.insert(s, limit("buy", 99_000, 0.01, client_order_id=3))
    with pytest.raises(ApiError) as err:
        engine.amend(s, {"client_order_id": 3, "price": 150_000, "amount": 0.02})
    assert err.value.code == 43
    order = s.account.orders[status["order_id"]]
    assert (order.price, order.amount, order.active) == (99_000, 0.01, True)
    assert engine.books[BTC].levels(True) == [(99_000, 0.01)]          # still in the book
    assert engine.cancel(s, {"client_order_id": 3})["status"] == "cancelled"


def test_change_24h_is_the_price_difference_of_the_first_and_last_trade_and_null_before_any():
    engine = Engine(default_instruments())
    market = Market(engine, seed=1, volatility=0.0, flow_rate=0.0)
    feeds = Feeds(engine, market)
    before = feeds.ticker(BTC)
    assert before["change_24h"] is None and "low_price_24h" not in before
    bid, ask = engine.books[BTC].best(True), engine.books[BTC].best(False)
    market.market_order(BTC, "sell", 0.001)             # at the bid
    market.market_order(BTC, "buy", 0.001)              # at the ask
    t = feeds.ticker(BTC)
    assert t["change_24h"] == ask - bid                  # USD, not a ratio
    assert (t["low_price_24h"], t["high_price_24h"], t["last_price"]) == (bid, ask, ask)
