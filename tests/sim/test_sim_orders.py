"""Order entry on one instrument: post-only repricing, amend priority, cancel, fills, fees,
portfolio and trade history."""
from __future__ import annotations

import time

import pytest

from still_market import BEST_ASK, BEST_BID, BTC

pytestmark = pytest.mark.timeout(60)


def order(direction="buy", price=None, amount=0.01, **extra):
    p = {"direction": direction, "instrument_name": BTC, "amount": amount, **extra}
    if price is not None:
        p["price"] = price
    return p


def fill_market(sim, direction, amount):
    """A background market order; returns its OrderStatus."""
    reply = sim.call("sim/trade", {"instrument": BTC, "direction": direction, "amount": amount})
    assert "result" in reply, reply
    return reply["result"]


def open_order(client, order_id):
    return next((o for o in client.result("private/open_orders") if o["order_id"] == order_id), None)


def test_a_post_only_buy_that_would_cross_rests_one_tick_below_the_best_ask(trader):
    status = trader.result("private/insert", order("buy", BEST_ASK + 10, post_only=True))
    assert status["status"] == "open" and status["fills"] == []
    assert status["price"] == BEST_ASK - 1
    assert open_order(trader, status["order_id"])["price"] == BEST_ASK - 1


def test_a_post_only_sell_that_would_cross_rests_one_tick_above_the_best_bid(trader):
    status = trader.result("private/sell", {"instrument_name": BTC, "amount": 0.01,
                                            "price": BEST_BID - 10, "post_only": True})
    assert status["direction"] == "sell" and status["price"] == BEST_BID + 1


def test_reject_post_only_cancels_instead_of_repricing(trader):
    status = trader.result("private/insert", order("buy", BEST_ASK, post_only=True,
                                                   reject_post_only=True))
    assert status["status"] == "cancelled" and status["delete_reason"] == "immediate_cancel"
    assert status["remaining_amount"] == 0


def test_a_non_crossing_post_only_order_keeps_its_price(trader):
    status = trader.result("private/insert", order("buy", BEST_BID - 100, post_only=True,
                                                   client_order_id=100, label="keep"))
    assert (status["price"], status["client_order_id"], status["label"]) == (BEST_BID - 100, 100, "keep")
    assert status["persistent"] is True and status["change_reason"] == "insert"


def _two_asks_at_the_same_price(first, second):
    price = BEST_ASK - 2
    a = first.result("private/insert", order("sell", price, 0.01))
    b = second.result("private/insert", order("sell", price, 0.01))
    return a["order_id"], b["order_id"]


def test_amending_to_a_smaller_amount_at_the_same_price_keeps_queue_priority(sim, connect, new_key):
    first, second = connect(), connect()
    first.login(*new_key())
    second.login(*new_key())
    try:
        a, b = _two_asks_at_the_same_price(first, second)
        amended = first.result("private/amend", {"order_id": a, "price": BEST_ASK - 2, "amount": 0.005})
        assert amended["amount"] == 0.005 and amended["change_reason"] == "amend"
        fill_market(sim, "buy", 0.005)
        assert open_order(first, a) is None          # the first order was still first in line
        assert open_order(second, b)["filled_amount"] == 0
    finally:
        first.call("private/cancel_all")
        second.call("private/cancel_all")


def test_amending_to_a_larger_amount_loses_queue_priority(sim, connect, new_key):
    first, second = connect(), connect()
    first.login(*new_key())
    second.login(*new_key())
    try:
        a, b = _two_asks_at_the_same_price(first, second)
        first.result("private/amend", {"order_id": a, "price": BEST_ASK - 2, "amount": 0.02})
        fill_market(sim, "buy", 0.01)
        assert open_order(second, b) is None          # the second order moved ahead
        assert open_order(first, a)["filled_amount"] == 0
    finally:
        first.call("private/cancel_all")
        second.call("private/cancel_all")


def test_cancel_by_client_order_id_then_a_second_cancel_or_amend_is_error_1(trader):
    trader.result("private/insert", order("buy", BEST_BID - 50, client_order_id=101))
    status = trader.result("private/cancel", {"client_order_id": 101})
    assert status["status"] == "cancelled" and status["delete_reason"] == "client_cancel"
    assert status["change_reason"] == "cancel" and status["remaining_amount"] == 0
    again = trader.call("private/cancel", {"client_order_id": 101})
    assert again["error"]["code"] == 1 and "101" in again["error"]["message"]
    amend = trader.call("private/amend", {"client_order_id": 101, "price": BEST_BID, "amount": 0.01})
    assert amend["error"]["code"] == 1


def test_cancel_by_order_id_and_cancel_all_counts(trader):
    a = trader.result("private/insert", order("buy", BEST_BID - 50))
    trader.result("private/insert", order("buy", BEST_BID - 51))
    trader.result("private/insert", order("sell", BEST_ASK + 51))
    assert trader.result("private/cancel", {"order_id": a["order_id"]})["status"] == "cancelled"
    assert trader.result("private/cancel_all") == 2
    assert trader.result("private/open_orders") == []


def test_a_duplicate_live_client_order_id_is_error_2(trader):
    trader.result("private/insert", order("buy", BEST_BID - 50, client_order_id=102))
    assert trader.call("private/insert", order("buy", BEST_BID - 51, client_order_id=102))["error"]["code"] == 2


def test_a_marketable_limit_order_fills_as_taker_and_shows_in_portfolio_and_trade_history(sim, trader):
    time.sleep(0.25)                              # let earlier tests' trades refill the ladder
    status = trader.result("private/insert", order("buy", BEST_ASK + 10, 0.01, label="take"))
    assert status["status"] == "filled" and status["filled_amount"] == 0.01
    fill = status["fills"][0]
    assert (fill["price"], fill["amount"], fill["maker_taker"]) == (BEST_ASK, 0.01, "taker")
    [line] = trader.result("private/portfolio")
    assert (line["instrument_name"], line["position"], line["average_price"]) == (BTC, 0.01, BEST_ASK)
    [trade] = trader.result("private/trade_history")["trades"]
    assert trade["fee_rate"] == 0.0005 and trade["fee"] == pytest.approx(BEST_ASK * 0.0005 * 0.01)
    assert trade["position_after"] == 0.01 and trade["maker_taker"] == "taker"
    assert trade["label"] == "take" and trade["order_id"] == status["order_id"]
    summary = trader.result("private/account_summary")
    assert summary["cash_collateral"] == pytest.approx(1_000_000 - trade["fee"])


def test_a_resting_order_hit_by_the_market_fills_as_maker_and_is_pushed_on_session_orders(sim, trader):
    trader.result("private/subscribe", {"channels": ["session.orders", "account.trade_history",
                                                     "account.portfolio"]})
    status = trader.result("private/insert", order("sell", BEST_ASK - 1, 0.02, client_order_id=7))
    fill_market(sim, "buy", 0.02)
    filled = trader.wait_for(lambda m: m["channel_name"] == "session.orders"
                             and any(x["change_reason"] == "fill" for x in m["notification"]), 5)
    s = filled["notification"][0]
    assert s["order_id"] == status["order_id"] and s["status"] == "filled"
    assert s["fills"][0]["maker_taker"] == "maker" and s["fills"][0]["price"] == BEST_ASK - 1
    trades = trader.wait_for(lambda m: m["channel_name"] == "account.trade_history", 5)
    assert trades["notification"][0]["fee_rate"] == 0.0001
    pf = trader.wait_for(lambda m: m["channel_name"] == "account.portfolio"
                         and not m.get("snapshot"), 5)
    assert pf["notification"][0]["position"] == -0.02


def test_a_market_order_sweeps_levels_and_realised_pnl_follows_the_average_price(sim, trader):
    time.sleep(0.25)
    bought = trader.result("private/insert", order("buy", amount=0.5, order_type="market"))
    assert bought["time_in_force"] == "immediate_or_cancel" and bought["status"] == "filled"
    prices = [f["price"] for f in bought["fills"]]
    assert prices == sorted(prices) and prices[0] == BEST_ASK
    average = sum(f["price"] * f["amount"] for f in bought["fills"]) / 0.5
    [line] = trader.result("private/portfolio")
    assert line["average_price"] == pytest.approx(average)
    time.sleep(0.25)
    sold = trader.result("private/insert", order("sell", amount=0.5, order_type="market",
                                                 reduce_only=True))
    proceeds = sum(f["price"] * f["amount"] for f in sold["fills"])
    trades = trader.result("private/trade_history", {"sort": "ascending"})["trades"]
    assert trades[-1]["position_after"] == 0
    assert sum(t["position_pnl"] for t in trades) == pytest.approx(proceeds - average * 0.5, abs=1e-6)


def test_reduce_only_is_refused_without_a_position_with_code_57(trader):
    reply = trader.call("private/insert", order("sell", BEST_ASK + 100, reduce_only=True))
    assert reply["error"]["code"] == 57


def test_amending_to_no_more_than_the_filled_amount_removes_the_order(sim, trader):
    status = trader.result("private/insert", order("sell", BEST_ASK - 1, 0.02))
    fill_market(sim, "buy", 0.01)
    amended = trader.result("private/amend", {"order_id": status["order_id"],
                                              "price": BEST_ASK - 1, "amount": 0.01})
    assert amended["status"] == "cancelled_partially_filled" and amended["remaining_amount"] == 0


def test_a_price_beyond_the_collar_is_rejected_with_code_43_unless_clamped(trader):
    reply = trader.call("private/insert", order("buy", 150_000))
    assert reply["error"]["code"] == 43 and "collar_high" in reply["error"]["message"]
    clamped = trader.result("private/insert", order("buy", 150_000, 0.001, collar="clamp"))
    assert clamped["status"] == "filled"
