"""Conditional-order triggers in-process (no sockets): bracket and trailing stops, the index
target, and that a stop watches every trade since its last check, in order."""
from __future__ import annotations

import pytest

from sim.conditional import ConditionalOrders
from sim.engine import Engine
from sim.instruments import default_instruments
from sim.market import Market
from sim.session import Session

BTC = "BTC-PERPETUAL"


@pytest.fixture
def exchange():
    """(engine, market, conditional orders, trader session); a still market, no background flow."""
    engine = Engine(default_instruments())
    market = Market(engine, seed=1, volatility=0.0, flow_rate=0.0)
    conditional = ConditionalOrders(engine)
    trader = Session(remote="127.0.0.1")
    trader.account = engine.account("A1")
    return engine, market, conditional, trader


def create(conditional, trader, direction, stop, **extra):
    p = {"direction": direction, "instrument_name": BTC, "amount": 0.01, "stop_price": stop, **extra}
    return conditional.create(trader.account, p)["order_id"]


def status(conditional, trader, oid):
    return next(o for o in conditional.listed(trader.account) if o["order_id"] == oid)


def move(market, conditional, usd_per_s, seconds, dt=0.1):
    market.drift = usd_per_s
    for _ in range(round(seconds / dt)):
        market.step(dt)
        conditional.check()
    market.drift = 0.0


def test_a_buy_bracket_fires_below_its_bracket_price_and_a_sell_bracket_above(exchange):
    engine, market, conditional, trader = exchange
    mark = market.mark(BTC)
    buy = create(conditional, trader, "buy", mark + 500, bracket_price=mark - 30, target="mark")
    sell = create(conditional, trader, "sell", mark - 500, bracket_price=mark + 30, target="mark")
    conditional.check()
    assert status(conditional, trader, buy)["status"] == "active"
    move(market, conditional, -200, 0.5)                        # the mark falls ~100 USD
    assert status(conditional, trader, buy)["status"] == "converted"
    assert status(conditional, trader, sell)["status"] == "active"
    move(market, conditional, +400, 0.6)                        # and rises ~240 USD: above +30
    assert status(conditional, trader, sell)["status"] == "converted"


def test_a_trailing_sell_stop_follows_the_mark_up_and_fires_on_the_way_down(exchange):
    engine, market, conditional, trader = exchange
    mark = market.mark(BTC)
    oid = create(conditional, trader, "sell", mark - 1000, trailing_stop_callback_rate=0.001, target="mark")
    move(market, conditional, +500, 1.0)                        # up ~500 USD
    high = market.mark(BTC)
    trailed = status(conditional, trader, oid)
    assert trailed["status"] == "active"
    assert trailed["stop_price"] == pytest.approx(high * 0.999, abs=1.0)   # ~100 USD below the top
    assert trailed["update_time"] >= trailed["create_time"]
    move(market, conditional, -500, 0.4)                        # down ~200 USD: through the stop
    done = status(conditional, trader, oid)
    assert done["status"] == "converted" and done["stop_price"] == trailed["stop_price"]


def test_the_index_target_watches_the_index_not_the_book(exchange):
    engine, market, conditional, trader = exchange
    index = market.index("BTCUSD")
    oid = create(conditional, trader, "buy", index + 50, target="index")
    other = Session(remote="127.0.0.1")
    other.account = engine.account("A2")
    ask = engine.books[BTC].best(False) * 1.0
    engine.insert(other, {"direction": "buy", "instrument_name": BTC, "amount": 5.0,
                          "price": ask + 200, "collar": "ignore"})     # trades far above the index
    conditional.check()
    assert status(conditional, trader, oid)["status"] == "active"
    move(market, conditional, +300, 0.3)
    assert status(conditional, trader, oid)["status"] == "converted"


def test_a_last_trade_stop_sees_every_trade_in_order_not_only_the_latest(exchange):
    engine, market, conditional, trader = exchange
    bid = engine.books[BTC].best(True) * 1.0
    oid = create(conditional, trader, "sell", bid, target="last")
    other = Session(remote="127.0.0.1")
    other.account = engine.account("A2")
    engine.insert(other, {"direction": "sell", "instrument_name": BTC, "amount": 0.001,
                          "order_type": "market"})                     # at the bid: the stop
    engine.insert(other, {"direction": "buy", "instrument_name": BTC, "amount": 0.002,
                          "order_type": "market"})                     # then higher: last is above
    assert engine.last_price[BTC] > bid
    conditional.check()
    assert status(conditional, trader, oid)["status"] == "converted"
