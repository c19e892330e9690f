"""What the spec (v2.55) asks of our client: one websocket per connect, subscribe answers checked
against what was asked, the conditional-order wrappers. Against a scripted server on 127.0.0.1."""
from __future__ import annotations

import json
import threading

import pytest

from venue.client import ThalexClient
from venue.errors import SubscriptionError
from venue.subscriptions import missing_channels, subscribe_checked

from conftest import scripted_server

pytestmark = pytest.mark.timeout(60)


def answering(result_for):
    """A script answering each request with ``result_for(request)``; counts its connections."""
    opened = []
    lock = threading.Lock()

    def script(conn):
        with lock:
            opened.append(conn)
        for raw in iter(conn.recv, None):
            req = json.loads(raw)
            conn.send(json.dumps({"id": req["id"], "result": result_for(req)}))
    script.opened = opened
    return script


def test_connect_after_the_constructor_connected_opens_no_second_websocket():
    script = answering(lambda req: req["method"])
    with scripted_server(script) as url:
        client = ThalexClient(url)
        client.connect()                    # what the feed and the gateway used to do
        client.connect()
        assert client.call("public/instruments") == "public/instruments"
        assert len(script.opened) == 1
        client.close()
        client.connect()                    # after close() it opens anew
        assert client.call("public/ticker") == "public/ticker"
        assert len(script.opened) == 2
        client.close()


def test_a_subscribe_that_leaves_out_a_required_channel_raises_naming_it():
    granted = ["account.trade_history"]
    with scripted_server(answering(lambda req: granted)) as url, ThalexClient(url) as c:
        with pytest.raises(SubscriptionError) as err:
            subscribe_checked(c.private_subscribe, "private/subscribe",
                              ["session.orders", "account.trade_history"], ["session.orders"])
    assert err.value.missing == ["session.orders"]
    assert "session.orders" in str(err.value) and "['account.trade_history']" in str(err.value)


def test_a_missing_optional_channel_is_returned_not_raised():
    with scripted_server(answering(lambda req: ["ticker.BTC-PERPETUAL.raw"])) as url, ThalexClient(url) as c:
        missing = subscribe_checked(c.public_subscribe, "public/subscribe",
                                    ["ticker.BTC-PERPETUAL.raw", "recent_trades.BTC-PERPETUAL.single"],
                                    ["ticker.BTC-PERPETUAL.raw"])
    assert missing == ["recent_trades.BTC-PERPETUAL.single"]


def test_a_subscribe_answer_that_is_not_a_list_of_names_is_an_error_for_the_required_ones():
    with scripted_server(answering(lambda req: {"ok": True})) as url, ThalexClient(url) as c:
        with pytest.raises(SubscriptionError, match="not a list of names") as err:
            subscribe_checked(c.public_subscribe, "public/subscribe", ["a", "b"], ["b"])
    assert err.value.missing == ["b"]
    with pytest.raises(ValueError, match="expected the list of channel names"):
        missing_channels(["a"], ["a", 7])


def test_conditional_order_wrappers_send_the_spec_method_names_and_parameters():
    with scripted_server(answering(lambda req: [req["method"], req["params"]])) as url, ThalexClient(url) as c:
        method, params = c.create_conditional_order("sell", "BTC-PERPETUAL", 0.1, 60000.0,
                                                    limit_price=59900.0, target="mark",
                                                    reduce_only=True, label="sl")
        assert method == "private/create_conditional_order"
        assert params == {"direction": "sell", "instrument_name": "BTC-PERPETUAL", "amount": 0.1,
                          "stop_price": 60000.0, "limit_price": 59900.0, "target": "mark",
                          "label": "sl", "reduce_only": True}
        assert c.cancel_conditional_order("00011E570000004B") == [
            "private/cancel_conditional_order", {"order_id": "00011E570000004B"}]
        for call, name in [(c.cancel_all_conditional_orders, "private/cancel_all_conditional_orders"),
                           (c.open_conditional_orders, "private/open_conditional_orders"),
                           (c.conditional_orders, "private/conditional_orders")]:
            assert call() == [name, {}]
        with pytest.raises(ValueError, match="target='trade'"):
            c.create_conditional_order("sell", "BTC-PERPETUAL", 0.1, 60000.0, target="trade")
        with pytest.raises(ValueError, match="direction='short'"):
            c.create_conditional_order("short", "BTC-PERPETUAL", 0.1, 60000.0)


def test_a_frame_hook_that_raises_is_counted_and_the_next_frames_still_arrive():
    def script(conn):
        for raw in iter(conn.recv, None):
            req = json.loads(raw)
            conn.send(json.dumps({"channel_name": "account.trade_history", "notification": [1]}))
            conn.send(json.dumps({"id": req["id"], "result": "after"}))

    def hook(frame):
        if b"channel_name" in frame:
            raise AttributeError("'list' object has no attribute 'get'")
        return False

    with scripted_server(script) as url, ThalexClient(url) as c:
        c.frame_hook = hook
        assert c.call("public/instruments") == "after"
        assert c.rejects.counts == {"handler_error": 1}
