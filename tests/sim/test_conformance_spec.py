"""The local exchange held to Thalex's published spec (v2.55), method by method and channel by
channel: one session does everything our client does (and the conditional orders), every reply
and notification is kept, and each is checked against the spec subset in fixtures/ for field
names, types, enums and required fields (spec_check.py). A field the spec does not name counts
as a problem too. The envelope is checked by hand: replies carry the id and exactly one of result
or error, notifications only channel_name, notification and (when true) snapshot."""
from __future__ import annotations

import time
from collections import defaultdict

import pytest
import websocket

from spec_check import SUBSET, notification_problems, problems, result_problems
from still_market import BTC
from testkit.exchange import make_key_pair, make_token

pytestmark = pytest.mark.timeout(120)

PUBLIC_CHANNELS = [f"ticker.{BTC}.raw", f"lwt.{BTC}.100ms", f"book.{BTC}.none.all.raw",
                   f"recent_trades.{BTC}.single", "price_index.BTCUSD", "instruments"]
PRIVATE_CHANNELS = ["session.orders", "account.orders", "account.persistent_orders",
                    "account.trade_history", "account.portfolio", "account.summary",
                    "session.mm_protection", "account.conditional_orders"]


def pattern_of(channel: str) -> str:
    for pattern in SUBSET["channels"]:
        head = pattern.split(".<", 1)[0]
        if channel == pattern or ("<" in pattern and channel.startswith(head + ".")
                                  and channel.count(".") == pattern.count(".")):
            return pattern
    raise KeyError(channel)


class Recorder:
    """A raw client (testkit) whose every reply is kept by method and every notification by
    channel pattern."""

    def __init__(self, client):
        self.client = client
        self.replies: dict[str, list[dict]] = defaultdict(list)
        self.errors: list[tuple[str, dict]] = []

    def call(self, method: str, params: dict | None = None):
        reply = self.client.call(method, params)
        if "error" in reply:
            self.errors.append((method, reply))
        else:
            self.replies[method].append(reply)
        return reply.get("result")

    def listen(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = self.client.recv(max(0.01, deadline - time.monotonic()))
            except websocket.WebSocketTimeoutException:
                break
            self.client.notifications.append(msg)

    def notifications(self) -> dict[str, list[dict]]:
        out = defaultdict(list)
        for msg in self.client.notifications:
            out[pattern_of(msg["channel_name"])].append(msg)
        return out


@pytest.fixture(scope="module")
def session(sim, tmp_path_factory):
    """Everything our client and pipeline do, once, on one account; the Recorder afterwards."""
    kid, private, public = make_key_pair(tmp_path_factory.mktemp("keys"))
    assert "result" in sim.call("sim/register_key", {"key_id": kid, "public_key": public.read_text()})
    client = sim.client()
    r = Recorder(client)
    try:
        r.call("public/login", {"token": make_token(kid, private)})
        for method, params in [("public/instruments", {}), ("public/instrument", {"instrument_name": BTC}),
                               ("public/ticker", {"instrument_name": BTC}),
                               ("public/index", {"underlying": "BTCUSD"}),
                               ("public/book", {"instrument_name": BTC}), ("public/system_info", {}),
                               ("public/mark_price_historical_data", {"instrument_name": BTC, "resolution": "1m",
                                                                      "from": time.time() - 600, "to": time.time() + 60})]:
            r.call(method, params)
        assert r.call("public/subscribe", {"channels": PUBLIC_CHANNELS}) == PUBLIC_CHANNELS
        assert r.call("private/subscribe", {"channels": PRIVATE_CHANNELS}) == PRIVATE_CHANNELS
        book = r.replies["public/book"][0]["result"]
        bid, ask = book["bids"][0][0], book["asks"][0][0]

        # persistent orders first (account.persistent_orders), then the session goes non-persistent
        rest = r.call("private/insert", {"direction": "buy", "instrument_name": BTC, "amount": 0.01,
                                         "price": bid - 100, "post_only": True, "label": "conf"})
        r.call("private/amend", {"order_id": rest["order_id"], "price": bid - 90, "amount": 0.02})
        r.call("private/cancel", {"order_id": rest["order_id"]})
        r.call("private/buy", {"instrument_name": BTC, "amount": 0.02, "order_type": "market",
                               "client_order_id": 7})
        r.call("private/sell", {"instrument_name": BTC, "amount": 0.01, "price": ask + 200,
                                "client_order_id": 8})
        r.call("private/cancel_all")
        r.call("private/set_cancel_on_disconnect", {"timeout_secs": 6})
        r.call("private/set_mm_protection", {"product": "FBTCUSD", "trade_amount": 0.05, "quote_amount": 0.05})
        r.call("private/mass_quote", {"quotes": [{"i": BTC, "b": [[bid - 1, 0.01]],
                                                  "a": [[ask + 1, 0.01], [ask + 2, 5.0]]}],
                                      "label": "mq", "post_only": True})
        sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.005})
        r.call("private/cancel_mass_quote", {"product": "FBTCUSD"})

        # conditional orders: one converts, one is cancelled, one goes with cancel_all
        fired = r.call("private/create_conditional_order", {
            "direction": "sell", "instrument_name": BTC, "amount": 0.01, "stop_price": bid,
            "limit_price": ask + 300, "target": "last", "reduce_only": True, "label": "sl"})
        sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.002})
        kept = r.call("private/create_conditional_order", {
            "direction": "buy", "instrument_name": BTC, "amount": 0.01, "stop_price": ask + 5000,
            "target": "mark"})
        r.call("private/open_conditional_orders")
        r.call("private/cancel_conditional_order", {"order_id": kept["order_id"]})
        r.call("private/create_conditional_order", {
            "direction": "sell", "instrument_name": BTC, "amount": 0.01, "stop_price": bid - 5000,
            "trailing_stop_callback_rate": 0.01})
        r.call("private/cancel_all_conditional_orders")
        r.call("private/conditional_orders")
        r.call("private/conditional_order_history", {"limit": 10})
        assert fired["order_id"] in {o["order_id"] for o in r.replies["private/conditional_orders"][0]["result"]}

        r.call("private/portfolio")
        r.call("private/open_orders")
        r.call("private/trade_history", {"limit": 5})
        r.call("private/account_summary")
        r.call("private/cancel", {"order_id": "00000000DEADBEEF"})          # error 1
        r.call("private/insert", {"direction": "up", "instrument_name": BTC, "amount": 1})  # error 6
        r.listen(1.5)                                   # periodic channels (account.summary)
        r.call("unsubscribe", {"channels": ["instruments", "account.summary"]})
        r.call("private/cancel_session")
        yield r
    finally:
        client.close()


METHODS = sorted(SUBSET["methods"])
CHANNELS = sorted(SUBSET["channels"])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_answers_in_the_shape_the_spec_gives(session, method):
    replies = session.replies[method]
    assert replies, f"{method} was not exercised (errors: {[e for m, e in session.errors if m == method]})"
    for reply in replies:
        assert set(reply) == {"id", "result"} and type(reply["id"]) is int, reply
        assert result_problems(method, reply["result"]) == []


@pytest.mark.parametrize("pattern", CHANNELS)
def test_every_channel_notifies_in_the_shape_the_spec_gives(session, pattern):
    frames = session.notifications()[pattern]
    assert frames, f"nothing was published on {pattern}"
    stateful = SUBSET["channels"][pattern]["snapshot"]
    for frame in frames:
        assert set(frame) <= {"channel_name", "notification", "snapshot"}, frame
        assert frame.get("snapshot", True) is True, "snapshot is sent only when true"
        assert stateful or "snapshot" not in frame, f"{pattern} has no snapshot in the spec"
        assert notification_problems(pattern, frame["notification"]) == []


def test_errors_are_the_spec_error_object_with_an_integer_code(session):
    codes = {method: reply["error"]["code"] for method, reply in session.errors}
    assert codes == {"private/cancel": 1, "private/insert": 6}
    for _, reply in session.errors:
        assert set(reply) == {"id", "error"} and set(reply["error"]) == {"code", "message"}
        assert problems({"error": reply["error"]}, {"$ref": "ErrorResponse"}) == []
        assert type(reply["error"]["code"]) is int


def test_the_conditional_channel_reported_the_conversion_with_its_fields(session):
    lists = [f["notification"] for f in session.notifications()["account.conditional_orders"]]
    converted = [o for listed in lists for o in listed if o["status"] == "converted"]
    assert converted and {"convert_time", "converted_order_id", "limit_price", "label"} <= set(converted[0])
    orders = [o for f in session.notifications()["account.orders"] for o in f["notification"]]
    from_stop = [o for o in orders if o.get("conditional_order_id") == converted[0]["order_id"]]
    assert from_stop and from_stop[0]["insert_reason"] == "conditional_order"


def test_mass_quote_errors_name_the_side_and_the_price_level(session):
    [reply] = session.replies["private/mass_quote"]
    result = reply["result"]
    assert (result["n_success"], result["n_fail"]) == (1, 1)
    [error] = result["errors"]
    assert error["code"] == 44 and error["side"] == "ask" and type(error["price"]) in (int, float)
