"""Mass quotes and market-maker protection; cancel_session."""
from __future__ import annotations

import pytest

from still_market import BEST_ASK, BEST_BID, BTC

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def maker(trader):
    """A trader on a non-persistent session with session feeds subscribed."""
    assert trader.result("private/set_cancel_on_disconnect", {"timeout_secs": 30}) == {"message_rate": 50}
    trader.result("private/subscribe", {"channels": ["session.orders", "session.mm_protection"]})
    return trader


def protect(client, trade_amount, quote_amount, product="FBTCUSD"):
    assert client.result("private/set_mm_protection", {"product": product, "trade_amount": trade_amount,
                                                       "quote_amount": quote_amount}) is None


def quote(client, bid=None, ask=None, **extra):
    item = {"i": BTC}
    if bid is not None:
        item["b"] = bid
    if ask is not None:
        item["a"] = ask
    return client.result("private/mass_quote", {"quotes": [item], **extra})


def open_prices(client):
    return sorted((o["direction"], o["price"], o["amount"]) for o in client.result("private/open_orders"))


def test_mass_quote_on_a_persistent_session_is_error_52(trader):
    reply = trader.call("private/mass_quote", {"quotes": [{"i": BTC, "b": {"p": BEST_BID, "a": 0.01}}]})
    assert reply["error"]["code"] == 52


def test_a_side_without_protection_fails_with_code_23_inside_the_result(maker):
    result = quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})
    assert result["n_success"] == 0 and result["n_fail"] == 1
    assert result["errors"][0]["code"] == 23 and result["errors"][0]["side"] == "bid"


def test_multi_level_quotes_rest_and_a_present_side_replaces_all_its_levels(maker):
    protect(maker, 1.0, 0.5)
    result = quote(maker, bid=[[BEST_BID - 1, 0.01], [BEST_BID - 2, 0.02]], ask={"p": BEST_ASK + 1, "a": 0.03})
    assert (result["n_success"], result["n_fail"]) == (2, 0)
    assert open_prices(maker) == [("buy", BEST_BID - 2, 0.02), ("buy", BEST_BID - 1, 0.01),
                                  ("sell", BEST_ASK + 1, 0.03)]
    quote(maker, bid=[[BEST_BID - 3, 0.01]])                    # asks absent: left untouched
    assert open_prices(maker) == [("buy", BEST_BID - 3, 0.01), ("sell", BEST_ASK + 1, 0.03)]
    quote(maker, ask=[])                                         # empty list: side removed
    assert open_prices(maker) == [("buy", BEST_BID - 3, 0.01)]


def test_an_identical_level_is_not_replaced_but_a_changed_one_is(maker):
    protect(maker, 1.0, 0.5)
    quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})
    [before] = maker.result("private/open_orders")
    quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})
    [same] = maker.result("private/open_orders")
    assert same["order_id"] == before["order_id"]
    quote(maker, bid={"p": BEST_BID - 1, "a": 0.02})
    [changed] = maker.result("private/open_orders")
    assert changed["order_id"] != before["order_id"] and changed["amount"] == 0.02


def test_a_quote_larger_than_quote_amount_fails_with_code_44(maker):
    protect(maker, 0.05, 0.05)
    result = quote(maker, ask={"p": BEST_ASK + 1, "a": 0.06})
    assert result["n_fail"] == 1 and result["errors"][0]["code"] == 44


def test_bad_levels_fail_their_side_only(maker):
    protect(maker, 1.0, 0.5)
    result = quote(maker, bid={"p": BEST_BID - 0.5, "a": 0.01}, ask={"p": BEST_ASK + 1, "a": 0.01})
    assert (result["n_success"], result["n_fail"]) == (1, 1)
    assert result["errors"][0]["code"] == 15 and result["errors"][0]["side"] == "bid"


def test_post_only_quotes_that_would_cross_move_one_tick_inside(maker):
    protect(maker, 1.0, 0.5)
    quote(maker, bid={"p": BEST_ASK + 3, "a": 0.01}, post_only=True)
    assert open_prices(maker) == [("buy", BEST_ASK - 1, 0.01)]


def test_exhausting_the_trade_amount_pulls_every_quote_of_the_group_until_refilled(sim, maker):
    protect(maker, 0.02, 0.05)
    quote(maker, bid={"p": BEST_BID + 1, "a": 0.03}, ask={"p": BEST_ASK - 1, "a": 0.03})
    sim.call("sim/trade", {"instrument": BTC, "direction": "buy", "amount": 0.03})
    note = maker.wait_for(lambda m: m["channel_name"] == "session.mm_protection"
                          and m["notification"][0]["reason"] == "executions", 5)
    assert note["notification"][0]["product"] == "FBTCUSD"
    assert note["notification"][0]["remaining_amount"] <= 0
    pulled = maker.wait_for(lambda m: m["channel_name"] == "session.orders" and any(
        o.get("delete_reason") == "mm_protection" for o in m["notification"]), 5)
    [bid] = [o for o in pulled["notification"] if o.get("delete_reason") == "mm_protection"]
    assert bid["direction"] == "buy" and bid["status"] == "cancelled"
    assert maker.result("private/open_orders") == []
    refused = quote(maker, bid={"p": BEST_BID + 1, "a": 0.01})
    assert refused["n_fail"] == 1 and refused["errors"][0]["code"] == 23
    protect(maker, 0.02, 0.05)                                   # refill
    assert quote(maker, bid={"p": BEST_BID + 1, "a": 0.01})["n_success"] == 1


def test_cancel_session_deletes_the_sessions_non_persistent_orders_and_resets_protection(maker):
    protect(maker, 1.0, 0.5)
    quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})
    maker.result("private/insert", {"direction": "sell", "instrument_name": BTC, "amount": 0.01,
                                    "price": BEST_ASK + 50})
    assert len(maker.result("private/open_orders")) == 2
    assert maker.call("private/cancel_session")["result"] is None
    assert maker.result("private/open_orders") == []
    gone = maker.wait_for(lambda m: m["channel_name"] == "session.orders" and any(
        o.get("delete_reason") == "session_end" for o in m["notification"]), 5)
    assert gone
    assert quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})["errors"][0]["code"] == 23


def test_cancel_session_on_a_persistent_session_is_error_52(trader):
    assert trader.call("private/cancel_session")["error"]["code"] == 52


def test_cancel_mass_quote_removes_quotes_but_not_ordinary_orders(maker):
    protect(maker, 1.0, 0.5)
    quote(maker, bid={"p": BEST_BID - 1, "a": 0.01})
    maker.result("private/insert", {"direction": "sell", "instrument_name": BTC, "amount": 0.01,
                                    "price": BEST_ASK + 50})
    assert maker.call("private/cancel_mass_quote", {"product": "FBTCUSD"})["result"] is None
    assert [o["direction"] for o in maker.result("private/open_orders")] == ["sell"]
