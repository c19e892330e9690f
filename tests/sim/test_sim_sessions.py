"""Sessions: cancel-on-disconnect, heartbeats, message-rate limits, and injected faults."""
from __future__ import annotations

import time

import pytest
import websocket

from sim.latency import label_for
from still_market import BEST_ASK, BEST_BID, BTC

pytestmark = pytest.mark.timeout(60)


def rest(client, price, **extra):
    return client.result("private/insert", {"direction": "buy", "instrument_name": BTC,
                                            "amount": 0.01, "price": price, **extra})


def second_login(connect, client):
    other = connect()
    other.login(*client.key)
    return other


def wait_until(predicate, timeout_s=5.0, step_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return False


def test_non_persistent_orders_are_deleted_when_the_connection_drops_and_persistent_ones_stay(
        connect, trader):
    kept = rest(trader, BEST_BID - 60)                            # before cancel_on_disconnect
    trader.result("private/set_cancel_on_disconnect", {"timeout_secs": 5})
    gone = rest(trader, BEST_BID - 61)
    assert (kept["persistent"], gone["persistent"]) == (True, False)
    watcher = second_login(connect, trader)
    assert len(watcher.result("private/open_orders")) == 2
    trader.close()
    assert wait_until(lambda: [o["order_id"] for o in watcher.result("private/open_orders")]
                      == [kept["order_id"]])
    watcher.call("private/cancel_all")


def test_a_silent_non_persistent_session_is_declared_dead_after_its_timeout(connect, trader):
    trader.result("private/set_cancel_on_disconnect", {"timeout_secs": 1})
    rest(trader, BEST_BID - 62)
    watcher = second_login(connect, trader)
    started = time.monotonic()
    assert wait_until(lambda: watcher.result("private/open_orders") == [], 4)
    assert time.monotonic() - started >= 0.7
    with pytest.raises((websocket.WebSocketException, OSError)):
        trader.recv(2)


def test_websocket_pings_alone_keep_a_non_persistent_session_alive(connect, trader):
    trader.result("private/set_cancel_on_disconnect", {"timeout_secs": 1})
    rest(trader, BEST_BID - 63)
    watcher = second_login(connect, trader)
    for _ in range(10):                                           # 2.5 s of pings, no requests
        trader.ws.ping()
        time.sleep(0.25)
    assert len(watcher.result("private/open_orders")) == 1
    watcher.call("private/cancel_all")


def test_more_than_10_order_messages_a_second_are_throttled_with_code_4(trader):
    ids = [trader.send("private/insert", {"direction": "buy", "instrument_name": BTC,
                                          "amount": 0.001, "price": BEST_BID - 100 - i})
           for i in range(25)]
    replies = [trader.reply_to(i) for i in ids]
    codes = [r["error"]["code"] if "error" in r else 0 for r in replies]
    assert codes[:10] == [0] * 10
    assert codes.count(4) >= 10
    assert "rate" in next(r for r in replies if "error" in r)["error"]["message"]
    assert "result" in trader.call("public/system_info")          # queries are not throttled
    trader.result("private/cancel_all")                          # cancels have their own budget
    time.sleep(1.0)
    assert "result" in trader.call("private/insert", {"direction": "buy", "instrument_name": BTC,
                                                      "amount": 0.001, "price": BEST_BID - 100})


def test_a_non_persistent_session_may_send_50_order_messages_a_second(trader):
    trader.result("private/set_cancel_on_disconnect", {"timeout_secs": 10})
    ids = [trader.send("private/insert", {"direction": "buy", "instrument_name": BTC,
                                          "amount": 0.001, "price": BEST_BID - 100 - i})
           for i in range(45)]
    assert all("result" in trader.reply_to(i) for i in ids)


def test_a_ticker_label_on_an_order_records_a_tick_to_order_latency_sample(sim, trader):
    channel = f"ticker.{BTC}.raw"
    trader.result("public/subscribe", {"channels": [channel]})
    tick = trader.wait_for(lambda m: m["channel_name"] == channel, 5)
    sim.call("sim/latency", {"clear": True})
    rest(trader, BEST_BID - 70, label=label_for(tick["notification"]["mark_timestamp"]))
    rest(trader, BEST_BID - 71, label=label_for(tick["notification"]["mark_timestamp"]))
    samples = sim.call("sim/latency")["result"]["samples_ns"]
    assert len(samples) == 1 and 0 < samples[0] < 5e9


def test_reject_next_fails_exactly_n_order_messages_with_the_given_code(sim, trader):
    sim.call("sim/reject_next", {"n": 2, "code": 24})
    codes = [trader.call("private/insert", {"direction": "buy", "instrument_name": BTC,
                                            "amount": 0.001, "price": BEST_BID - 80})
             .get("error", {}).get("code") for _ in range(3)]
    assert codes == [24, 24, None]


def test_injected_throttle_answers_code_4_then_clears(sim, trader):
    sim.call("sim/throttle", {"seconds": 0.5})
    assert trader.call("private/cancel_all")["error"]["code"] == 4
    time.sleep(0.6)
    assert "result" in trader.call("private/cancel_all")


def test_delayed_replies_arrive_late(sim, trader):
    sim.call("sim/delay_replies", {"seconds": 0.4})
    try:
        started = time.monotonic()
        trader.call("private/open_orders")
        assert time.monotonic() - started >= 0.35
    finally:
        sim.call("sim/delay_replies", {"seconds": 0})


def test_a_stalled_feed_sends_no_tickers_until_it_resumes(sim, connect):
    client = connect()
    channel = f"ticker.{BTC}.raw"
    client.call("public/subscribe", {"channels": [channel]})
    client.wait_for(lambda m: m["channel_name"] == channel, 5)
    sim.call("sim/stall_feed", {"seconds": 0.6})
    client.notifications.clear()
    time.sleep(0.1)                                   # a ticker already in flight may still land
    client.notifications.clear()
    with pytest.raises(TimeoutError):
        client.wait_for(lambda m: m["channel_name"] == channel, 0.3)
    client.wait_for(lambda m: m["channel_name"] == channel, 3)


def test_drop_connections_closes_private_ones_and_leaves_public_ones(sim, connect, trader):
    public = connect()
    assert sim.call("sim/drop_connections", {"scope": "private"})["result"]["dropped"] >= 1
    with pytest.raises((websocket.WebSocketException, OSError)):
        trader.call("private/open_orders")
    assert "result" in public.call("public/system_info")


def test_sim_portfolio_peeks_at_an_account(sim, trader):
    trader.result("private/insert", {"direction": "buy", "instrument_name": BTC, "amount": 0.001,
                                     "price": BEST_ASK + 5})
    state = sim.call("sim/portfolio", {"account": trader.account})["result"]
    assert state["portfolio"][0]["position"] == 0.001 and state["trades"] == 1
    assert sim.call("sim/portfolio", {"account": "A000"})["error"]["code"] == 6


def test_an_injected_trend_moves_the_index(sim, connect):
    client = connect()
    before = client.result("public/index", {"underlying": "BTCUSD"})["price"]
    sim.call("sim/trend", {"usd_per_s": 2000, "seconds": 0.5})
    time.sleep(0.8)
    after = client.result("public/index", {"underlying": "BTCUSD"})["price"]
    assert 600 < after - before < 1400
    sim.call("sim/trend", {"usd_per_s": -2000, "seconds": 0.5})   # put the still market back
    time.sleep(0.8)


def test_sim_options_changes_fees_at_runtime(sim):
    try:
        assert sim.call("sim/options", {"taker_fee": 0.001})["result"]["taker_fee"] == 0.001
    finally:
        sim.call("sim/options", {"taker_fee": 0.0005})
    assert sim.call("sim/options", {"nope": 1})["error"]["code"] == 6
