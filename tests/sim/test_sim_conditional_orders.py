"""Conditional (stop) orders held by the local exchange, driven by our own client (venue/api.py)
over a real websocket: create, trigger on the mark and on the last trade, conversion into a
reduce-only market or limit order, rejection with a reason, cancel, the channel, and that they
outlive the session that placed them."""
from __future__ import annotations

import pytest

from heard import Heard
from still_market import BTC
from venue.client import ThalexClient
from venue.errors import ThalexError

pytestmark = pytest.mark.timeout(60)
CHANNELS = ["account.conditional_orders", "account.orders"]


def listen(client) -> Heard:
    heard = Heard(client, *CHANNELS)
    assert client.private_subscribe(CHANNELS) == CHANNELS
    return heard


def with_status(order_id, status):
    return lambda listed: any(o["order_id"] == order_id and o["status"] == status for o in listed)


def position(client) -> float:
    return sum(p["position"] for p in client.portfolio() if p["instrument_name"] == BTC)


def test_a_reduce_only_sell_stop_on_the_mark_closes_the_long_when_the_mark_falls(sim, our_client):
    c = our_client
    heard = listen(c)
    c.insert("buy", BTC, 0.01, order_type="market")
    mark = c.ticker(BTC)["mark_price"]
    created = c.create_conditional_order("sell", BTC, 0.05, mark - 20, target="mark",
                                         reduce_only=True, label="sl")
    oid = created["order_id"]
    assert (created["status"], created["target"], created["reduce_only"]) == ("created", "mark", True)
    assert len(oid) == 16 and int(oid, 16) > 0
    assert [o["order_id"] for o in c.open_conditional_orders()] == [oid]
    heard.wait("account.conditional_orders", with_status(oid, "active"))
    assert position(c) == pytest.approx(0.01)            # the stop has not fired on a still mark

    sim.call("sim/trend", {"usd_per_s": -400, "seconds": 0.5})
    try:
        listed = heard.wait("account.conditional_orders", with_status(oid, "converted"))
    finally:
        # The stop fires within the trend's half second: end it, or the next tests' books keep
        # falling under them (a buy stop at the ask read a moment ago is then never reached).
        sim.call("sim/trend", {"usd_per_s": 0, "seconds": 0})
    [done] = [o for o in listed if o["order_id"] == oid]
    assert done["converted_order_id"] and done["convert_time"] >= done["create_time"]
    updates = heard.wait("account.orders", lambda n: any(o.get("conditional_order_id") == oid for o in n))
    [order] = [o for o in updates if o.get("conditional_order_id") == oid]
    assert order["order_id"] == done["converted_order_id"]
    assert (order["insert_reason"], order["order_type"], order["label"]) == ("conditional_order", "market", "sl")
    assert order["reduce_only"] is True and order["amount"] == pytest.approx(0.01)   # clipped to the long
    assert position(c) == pytest.approx(0.0)
    assert c.open_conditional_orders() == []


def test_a_stop_limit_on_the_last_trade_becomes_a_resting_reduce_only_limit_order(sim, our_client):
    c = our_client
    heard = listen(c)
    c.insert("buy", BTC, 0.01, order_type="market")
    book = c.book(BTC)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    created = c.create_conditional_order("sell", BTC, 0.01, bid, limit_price=ask + 50, target="last",
                                         reduce_only=True)
    oid = created["order_id"]
    assert created["limit_price"] == ask + 50
    sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.001})  # trades at bid
    heard.wait("account.conditional_orders", with_status(oid, "converted"))
    [resting] = [o for o in c.open_orders() if o.get("conditional_order_id") == oid]
    assert (resting["price"], resting["order_type"], resting["time_in_force"]) == (
        ask + 50, "limit", "good_till_cancelled")
    assert resting["persistent"] is True and resting["remaining_amount"] == pytest.approx(0.01)


def test_a_trade_beyond_a_buy_stop_fires_it_and_a_stop_that_was_not_reached_waits(sim, our_client):
    c = our_client
    heard = listen(c)
    ask = c.book(BTC)["asks"][0][0]
    near = c.create_conditional_order("buy", BTC, 0.001, ask, target="last")["order_id"]
    far = c.create_conditional_order("buy", BTC, 0.001, ask + 1000, target="last")["order_id"]
    sim.call("sim/trade", {"instrument": BTC, "direction": "buy", "amount": 0.001})   # trades at ask
    heard.wait("account.conditional_orders", with_status(near, "converted"))
    assert [o["order_id"] for o in c.open_conditional_orders()] == [far]
    assert position(c) == pytest.approx(0.001)          # the market buy it became was filled
    c.insert("sell", BTC, 0.001, order_type="market")


def test_reduce_only_with_nothing_to_reduce_is_rejected_with_the_reason(sim, our_client):
    c = our_client
    heard = listen(c)
    ask = c.book(BTC)["asks"][0][0]
    oid = c.create_conditional_order("buy", BTC, 0.01, ask, target="last", reduce_only=True)["order_id"]
    sim.call("sim/trade", {"instrument": BTC, "direction": "buy", "amount": 0.001})
    listed = heard.wait("account.conditional_orders", with_status(oid, "rejected"))
    [done] = [o for o in listed if o["order_id"] == oid]
    assert "reduce_only" in done["reject_reason"] and "converted_order_id" not in done
    assert position(c) == 0


def test_cancel_cancel_all_and_the_list_of_formerly_active_orders(our_client):
    c = our_client
    bid = c.book(BTC)["bids"][0][0]
    first = c.create_conditional_order("sell", BTC, 0.01, bid - 500)["order_id"]
    second = c.create_conditional_order("sell", BTC, 0.01, bid - 600, limit_price=bid - 650)["order_id"]
    third = c.create_conditional_order("sell", BTC, 0.01, bid - 700, trailing_stop_callback_rate=0.01)
    assert third["trailing_stop_callback_rate"] == 0.01 and third["target"] == "last"
    assert c.cancel_conditional_order(first) is None
    with pytest.raises(ThalexError) as err:
        c.cancel_conditional_order(first)
    assert err.value.code == 1 and first in err.value.message
    assert c.cancel_all_conditional_orders() is None
    assert c.open_conditional_orders() == []
    statuses = {o["order_id"]: o["status"] for o in c.conditional_orders()}
    assert statuses == {first: "cancelled", second: "cancelled", third["order_id"]: "cancelled"}
    history = c.call("private/conditional_order_history", {"limit": 2, "sort": "ascending"})
    assert [o["order_id"] for o in history["orders"]] == [first, second] and history["bookmark"]


def test_conditional_orders_outlive_the_session_and_cancel_all_leaves_them(sim, our_client):
    c = our_client
    c.set_cancel_on_disconnect(5)
    bid = c.book(BTC)["bids"][0][0]
    oid = c.create_conditional_order("sell", BTC, 0.01, bid - 500)["order_id"]
    assert c.cancel_all() == 0
    c.close()
    again = ThalexClient(sim.url, timeout_s=10.0)
    try:
        again.login(c.key[0], c.key[1].read_text())
        assert [o["order_id"] for o in again.open_conditional_orders()] == [oid]
        heard = Heard(again, "account.conditional_orders")
        again.private_subscribe(["account.conditional_orders"])
        first = heard.wait("account.conditional_orders")      # the full list, at once
        assert [o["order_id"] for o in first if o["status"] == "active"] == [oid]
        again.cancel_all_conditional_orders()
    finally:
        again.close()


@pytest.mark.parametrize("extra,words", [
    ({"limit_price": 90_000, "bracket_price": 110_000}, ["limit_price and bracket_price"]),
    ({"bracket_price": 80_000}, ["bracket_price=80000", "above"]),      # a sell's bracket is above
    ({"trailing_stop_callback_rate": 1.5}, ["trailing_stop_callback_rate=1.5"]),
    ({"target": "funding"}, ["target='funding'"]),
])
def test_a_conditional_order_the_spec_does_not_allow_is_refused_naming_it(our_client, extra, words):
    params = {"direction": "sell", "instrument_name": BTC, "amount": 0.01, "stop_price": 90_000, **extra}
    with pytest.raises(ThalexError) as err:
        our_client.call("private/create_conditional_order", params)
    assert err.value.code == 6
    for word in words:
        assert word in err.value.message


def test_the_client_refuses_two_kinds_at_once_before_sending(our_client):
    with pytest.raises(ValueError, match="limit_price and trailing_stop_callback_rate"):
        our_client.create_conditional_order("sell", BTC, 0.01, 90_000, limit_price=89_000,
                                            trailing_stop_callback_rate=0.01)
    assert our_client.open_conditional_orders() == []
