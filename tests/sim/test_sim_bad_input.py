"""Hostile and malformed requests: each gets exactly one error reply with the right code, and
the connection keeps working afterwards."""
from __future__ import annotations

import orjson
import pytest

from still_market import BEST_BID, BTC

pytestmark = pytest.mark.timeout(60)


def insert(**over):
    p = {"direction": "buy", "instrument_name": BTC, "amount": 0.01, "price": BEST_BID - 200}
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


# (what, raw frame text or request dict, expected error code)
BAD = [
    ("malformed JSON", "{\"method\": ", 6),
    ("a JSON array", "[1, 2]", 6),
    ("method not a string", {"method": 7, "params": {}, "id": 5}, 6),
    ("params not an object", {"method": "public/instruments", "params": [1], "id": 5}, 6),
    ("unknown method", {"method": "private/teleport", "params": {}, "id": 5}, 31),
    ("missing amount", {"method": "private/insert", "params": insert(amount=None), "id": 5}, 6),
    ("missing price on a limit order", {"method": "private/insert", "params": insert(price=None), "id": 5}, 6),
    ("missing direction", {"method": "private/insert", "params": insert(direction=None), "id": 5}, 6),
    ("bad direction", {"method": "private/insert", "params": insert(direction="up"), "id": 5}, 6),
    ("off-tick price", {"method": "private/insert", "params": insert(price=99000.5), "id": 5}, 15),
    ("negative price", {"method": "private/insert", "params": insert(price=-5), "id": 5}, 13),
    ("zero price", {"method": "private/insert", "params": insert(price=0), "id": 5}, 13),
    ("price as a string", {"method": "private/insert", "params": insert(price="99000"), "id": 5}, 13),
    ("amount below the minimum", {"method": "private/insert", "params": insert(amount=0.0001), "id": 5}, 14),
    ("amount off the volume tick", {"method": "private/insert", "params": insert(amount=0.0015), "id": 5}, 14),
    ("negative amount", {"method": "private/insert", "params": insert(amount=-1), "id": 5}, 14),
    ("unknown instrument", {"method": "private/insert", "params": insert(instrument_name="DOGE-PERP"), "id": 5}, 5),
    ("market order good till cancelled", {"method": "private/insert", "params": insert(
        order_type="market", price=None, time_in_force="good_till_cancelled"), "id": 5}, 25),
    ("cancel with both ids", {"method": "private/cancel", "params": {"order_id": "1", "client_order_id": 1}, "id": 5}, 6),
    ("cancel of an unknown order", {"method": "private/cancel", "params": {"order_id": "42"}, "id": 5}, 1),
    ("unknown product", {"method": "private/set_mm_protection", "params": {
        "product": "FDOGEUSD", "trade_amount": 1, "quote_amount": 1}, "id": 5}, 17),
    ("subscribe without channels", {"method": "public/subscribe", "params": {}, "id": 5}, 6),
    ("ticker of an unknown instrument", {"method": "public/ticker", "params": {"instrument_name": "X"}, "id": 5}, 5),
]


@pytest.mark.parametrize("what,frame,code", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_its_error_code_and_the_connection_stays_usable(trader, what, frame, code):
    trader.send_raw(frame if isinstance(frame, str) else orjson.dumps(frame).decode())
    reply = trader.recv()
    while "channel_name" in reply:
        reply = trader.recv()
    assert set(reply) == {"id", "error"}, reply
    assert reply["id"] == (None if isinstance(frame, str) else 5)
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    assert "result" in trader.call("public/system_info")
    assert "result" in trader.call("private/open_orders")


def test_private_methods_before_login_are_code_7_and_login_still_works_after(connect, new_key):
    client = connect()
    assert client.call("private/insert", insert())["error"]["code"] == 7
    client.login(*new_key())
    assert "result" in client.call("private/insert", insert())
    client.call("private/cancel_all")


def test_a_request_without_id_or_params_gets_a_null_id_reply(connect):
    client = connect()
    client.send_raw('{"method": "public/system_info"}')
    reply = client.recv()
    assert reply["id"] is None and reply["result"]["api_version"]


def test_a_jsonrpc_member_and_a_string_id_are_accepted(connect):
    client = connect()
    client.send_raw('{"jsonrpc": "2.0", "method": "public/system_info", "params": {}, "id": "abc"}')
    assert client.recv()["id"] == "abc"


def test_an_error_message_names_the_parameter_and_the_value(trader):
    message = trader.call("private/insert", insert(price=99000.5))["error"]["message"]
    assert "price" in message and "99000.5" in message and "tick" in message
