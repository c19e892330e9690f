"""Public market data: instruments, ticker, index, book, and their subscriptions."""
from __future__ import annotations

import pytest

from still_market import BEST_ASK, BEST_BID, BTC

pytestmark = pytest.mark.timeout(60)


def test_instruments_lists_both_perpetuals_and_a_dated_btc_future_with_their_ticks(connect):
    listed = {i["instrument_name"]: i for i in connect().call("public/instruments")["result"]}
    btc, eth = listed["BTC-PERPETUAL"], listed["ETH-PERPETUAL"]
    assert (btc["tick_size"], btc["volume_tick_size"], btc["min_order_amount"]) == (1, 0.001, 0.001)
    assert (eth["tick_size"], eth["volume_tick_size"], eth["min_order_amount"]) == (0.1, 0.01, 0.01)
    assert btc["product"] == "FBTCUSD" and eth["product"] == "FETHUSD"
    futures = [i for i in listed.values() if i["type"] == "future"]
    assert len(futures) == 1 and futures[0]["instrument_name"].startswith("BTC-")
    assert futures[0]["expiration_timestamp"] > 0 and futures[0]["underlying"] == "BTCUSD"


def test_instrument_filters_and_single_lookup(connect):
    client = connect()
    eth_only = client.call("public/instruments", {"underlying": "ETHUSD"})["result"]
    assert [i["instrument_name"] for i in eth_only] == ["ETH-PERPETUAL"]
    assert client.call("public/instruments", {"instrument_type": "options"})["result"] == []
    assert client.call("public/instrument", {"instrument_name": BTC})["result"]["type"] == "perpetual"


def test_the_first_frame_after_a_request_is_its_reply(connect):
    client = connect()
    client.send("public/instruments", {}, req_id=0)
    first = client.recv()
    assert first["id"] == 0 and "result" in first


def test_a_ticker_subscription_pushes_tickers_with_every_field_a_quoter_reads(connect):
    client = connect()
    channel = f"ticker.{BTC}.raw"
    assert client.call("public/subscribe", {"channels": [channel]})["result"] == [channel]
    first = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    second = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    t = second["notification"]
    for field in ("mark_price", "mark_timestamp", "index", "delta", "funding_rate", "forward",
                  "best_bid_price", "best_ask_price", "collar_low", "collar_high"):
        assert field in t, field
    assert isinstance(t["mark_timestamp"], float)
    assert t["mark_timestamp"] > first["notification"]["mark_timestamp"]
    assert (t["best_bid_price"], t["best_ask_price"]) == (BEST_BID, BEST_ASK)
    assert "result" not in second and "id" not in second


def test_a_slower_ticker_delay_sends_less_often(connect):
    client = connect()
    fast, slow = f"ticker.{BTC}.100ms", f"ticker.{BTC}.1000ms"
    client.call("public/subscribe", {"channels": [fast, slow]})
    for _ in range(12):
        client.wait_for(lambda m: m["channel_name"] == fast, 5)
    slow_count = sum(1 for m in client.notifications if m["channel_name"] == slow)
    assert 1 <= slow_count <= 3


def test_a_book_subscription_starts_with_a_snapshot_of_every_level(connect):
    client = connect()
    channel = f"book.{BTC}.none.all.raw"
    client.call("public/subscribe", {"channels": [channel]})
    snap = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    assert snap["snapshot"] is True
    bids = snap["notification"]["bid_changes"]
    assert bids[0][0] == BEST_BID and len(bids) == 8
    assert snap["notification"]["ask_changes"][0][0] == BEST_ASK


def test_public_book_ticker_index_and_system_info_answer(connect):
    client = connect()
    book = client.call("public/book", {"instrument_name": BTC})["result"]
    assert book["bids"][0][0] == BEST_BID and len(book["asks"]) == 5
    assert client.call("public/index", {"underlying": "BTCUSD"})["result"]["price"] > 0
    assert client.call("public/ticker", {"instrument_name": BTC})["result"]["mark_price"] > 0
    assert client.call("public/system_info")["result"]["environment"] == "testnet"


def test_price_index_lwt_and_instruments_channels_publish(connect):
    client = connect()
    client.call("public/subscribe", {"channels": ["price_index.BTCUSD", f"lwt.{BTC}.100ms",
                                                  "instruments"]})
    idx = client.wait_for(lambda m: m["channel_name"] == "price_index.BTCUSD", 5)
    assert idx["notification"]["index_name"] == "BTCUSD"
    lwt = client.wait_for(lambda m: m["channel_name"] == f"lwt.{BTC}.100ms", 5)
    assert lwt["notification"]["b"][0] == BEST_BID and "m" in lwt["notification"]
    listed = client.wait_for(lambda m: m["channel_name"] == "instruments", 5)
    assert listed["snapshot"] and all("added" in x for x in listed["notification"])


def test_subscribe_succeeds_with_only_the_valid_channels_as_the_spec_says(connect):
    client = connect()
    ticker = f"ticker.{BTC}.raw"
    reply = client.call("public/subscribe", {"channels": ["ticker.NOPE.raw", ticker, "bogus"]})
    assert reply["result"] == [ticker]
    assert client.call("public/subscribe", {"channels": ["ticker.NOPE.raw"]})["result"] == []
    # a private channel asked publicly is not subscribed either, and says nothing
    assert client.call("public/subscribe", {"channels": ["session.orders"]})["result"] == []
    client.wait_for(lambda m: m["channel_name"] == ticker, 5)
    assert not any(m["channel_name"] in ("ticker.NOPE.raw", "session.orders") for m in client.notifications)


def test_asking_twice_for_a_channel_answers_it_once_and_keeps_one_subscription(connect):
    client = connect()
    channel = "price_index.BTCUSD"
    assert client.call("public/subscribe", {"channels": [channel, channel]})["result"] == [channel]
    assert client.call("public/subscribe", {"channels": [channel]})["result"] == [channel]


def test_unsubscribe_stops_the_feed(connect):
    client = connect()
    channel = f"ticker.{BTC}.raw"
    client.call("public/subscribe", {"channels": [channel]})
    client.wait_for(lambda m: m["channel_name"] == channel, 5)
    assert client.call("unsubscribe", {"channels": [channel]})["result"] == [channel]
    client.notifications.clear()
    client.call("public/system_info")
    with pytest.raises(TimeoutError):
        client.wait_for(lambda m: m["channel_name"] == channel, 0.5)


def test_recent_trades_sends_a_snapshot_then_each_trade(sim, connect):
    client = connect()
    channel = f"recent_trades.{BTC}.single"
    client.call("public/subscribe", {"channels": [channel]})
    snap = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    assert snap["snapshot"] is True
    sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.003})
    trade = client.wait_for(lambda m: m["channel_name"] == channel and not m.get("snapshot"), 5)
    price, amount, direction, when, name, implied = trade["notification"][0]
    assert (price, amount, direction, name) == (BEST_BID, 0.003, "sell", BTC)
    by_underlying = "recent_trades.BTCUSD.all"
    assert client.call("public/subscribe", {"channels": [by_underlying]})["result"] == [by_underlying]


def test_account_orders_and_summary_reach_every_session_of_the_account(connect, trader):
    other = connect()
    other.login(*trader.key)
    other.call("private/subscribe", {"channels": ["account.orders", "account.summary",
                                                  "account.conditional_orders", "mm.rfqs"]})
    summary = other.wait_for(lambda m: m["channel_name"] == "account.summary", 5)
    assert summary["notification"]["cash_collateral"] == 1_000_000
    trader.result("private/insert", {"direction": "buy", "instrument_name": BTC, "amount": 0.01,
                                     "price": BEST_BID - 300})
    seen = other.wait_for(lambda m: m["channel_name"] == "account.orders" and not m.get("snapshot"), 5)
    assert seen["notification"][0]["price"] == BEST_BID - 300


def test_book_updates_carry_a_new_level_and_its_removal(connect, trader):
    watcher = connect()
    channel = f"book.{BTC}.none.all.raw"
    watcher.call("public/subscribe", {"channels": [channel]})
    watcher.wait_for(lambda m: m["channel_name"] == channel and m.get("snapshot"), 5)
    status = trader.result("private/insert", {"direction": "buy", "instrument_name": BTC,
                                              "amount": 0.007, "price": BEST_BID + 1})
    added = watcher.wait_for(lambda m: m["channel_name"] == channel and
                             [BEST_BID + 1, 0.007, 0.007] in m["notification"]["bid_changes"], 5)
    assert "snapshot" not in added
    trader.result("private/cancel", {"order_id": status["order_id"]})
    watcher.wait_for(lambda m: m["channel_name"] == channel and
                     [BEST_BID + 1, 0.0, 0.0] in m["notification"]["bid_changes"], 5)


def test_a_grouped_book_merges_levels_into_usd_buckets_and_keeps_the_depth(connect):
    client = connect()
    channel = f"book.{BTC}.10.3.raw"
    client.call("public/subscribe", {"channels": [channel]})
    snap = client.wait_for(lambda m: m["channel_name"] == channel, 5)["notification"]
    bids = [p for p, _, _ in snap["bid_changes"]]
    asks = [p for p, _, _ in snap["ask_changes"]]
    assert bids == [99990, 99980, 99970] and asks == [100010, 100020, 100030]


def test_the_recent_trades_snapshot_is_the_history_before_subscribing_oldest_first(sim, connect):
    for amount in (0.001, 0.002, 0.003):
        sim.call("sim/trade", {"instrument": BTC, "direction": "buy", "amount": amount})
    client = connect()
    channel = f"recent_trades.{BTC}.single"
    client.call("public/subscribe", {"channels": [channel]})
    snap = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    assert snap["snapshot"] is True and 3 <= len(snap["notification"]) <= 100
    assert [row[1] for row in snap["notification"][-3:]] == [0.001, 0.002, 0.003]
    times = [row[3] for row in snap["notification"]]
    assert times == sorted(times)
    sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.004})
    new = client.wait_for(lambda m: m["channel_name"] == channel, 5)
    assert "snapshot" not in new and [row[1] for row in new["notification"]] == [0.004]
