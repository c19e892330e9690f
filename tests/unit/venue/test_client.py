"""ThalexClient framing against a scripted websocket server on 127.0.0.1 (port 0)."""
from __future__ import annotations

import json
import logging
import threading
import time

import jwt
import pytest

from venue.client import ThalexClient
from venue.errors import ThalexConnectionError, ThalexError, ThalexTimeout

from conftest import scripted_server

pytestmark = pytest.mark.timeout(60)


def requests(conn):
    """Parsed requests from a server connection, one per recv()."""
    while True:
        yield json.loads(conn.recv())


def reply(conn, req, result):
    conn.send(json.dumps({"id": req["id"], "result": result}))


def echo_server(conn):
    """Answers every request with {"echo": method, "params": params}."""
    for req in requests(conn):
        reply(conn, req, {"echo": req["method"], "params": req["params"]})


def test_a_call_gets_the_result_of_its_own_id_and_sends_a_plain_request():
    seen = []

    def script(conn):
        for req in requests(conn):
            seen.append(req)
            reply(conn, req, ["instruments", req["id"]])

    with scripted_server(script) as url, ThalexClient(url, timeout_s=5) as c:
        assert c.call("public/instruments") == ["instruments", 1]
        assert c.call("public/ticker", {"instrument_name": "BTC-PERPETUAL"}) == ["instruments", 2]
    assert seen[0] == {"method": "public/instruments", "params": {}, "id": 1}
    assert seen[1]["params"] == {"instrument_name": "BTC-PERPETUAL"} and "jsonrpc" not in seen[1]


def test_pipelined_requests_answered_out_of_order_reach_the_right_caller():
    def script(conn):
        batch = [json.loads(conn.recv()) for _ in range(3)]
        for req in reversed(batch):
            reply(conn, req, req["params"]["n"])
        echo_server(conn)

    got = {}
    with scripted_server(script) as url, ThalexClient(url) as c:
        a = c.send("private/insert", {"n": "a"})
        b = c.send("private/insert", {"n": "b"}, callback=lambda r, e: got.setdefault("b", (r, e)))
        d = c.send("private/insert", {"n": "d"})
        assert len({a, b, d}) == 3 and c.pending == 3
        deadline = time.monotonic() + 5
        while c.pending and time.monotonic() < deadline:
            c.poll(0.1)
        assert c.reply(d) == "d" and c.reply(a) == "a"
        assert got == {"b": ("b", None)} and not c.has_reply(b)
        with pytest.raises(KeyError):
            c.reply(a)  # a reply is read once


def test_notifications_arriving_during_a_call_are_dispatched_by_longest_prefix_in_order():
    def script(conn):
        req = json.loads(conn.recv())
        for i in range(3):
            conn.send(json.dumps({"channel_name": "ticker.BTC-PERPETUAL.100ms", "notification": {"i": i}}))
        conn.send(json.dumps({"channel_name": "session.orders", "notification": [], "snapshot": True}))
        reply(conn, req, "done")
        echo_server(conn)

    ticks, orders, other = [], [], []
    with scripted_server(script) as url, ThalexClient(url) as c:
        c.on("ticker.", lambda ch, n, f: ticks.append((ch, n["i"])))
        c.on("", lambda ch, n, f: other.append(ch))
        c.on("session.", lambda ch, n, f: orders.append(f.get("snapshot")))
        assert c.call("public/subscribe", {"channels": ["ticker.BTC-PERPETUAL.100ms"]}) == "done"
    assert ticks == [("ticker.BTC-PERPETUAL.100ms", i) for i in range(3)]
    assert orders == [True] and other == []


def test_a_call_without_reply_times_out_and_its_late_reply_is_counted():
    release = threading.Event()

    def script(conn):
        req = json.loads(conn.recv())
        release.wait(10)
        reply(conn, req, "too late")
        echo_server(conn)

    with scripted_server(script) as url, ThalexClient(url) as c:
        t0 = time.monotonic()
        with pytest.raises(ThalexTimeout, match=r"public/ticker \(id 1\): no reply within 0.3 s"):
            c.call("public/ticker", {"instrument_name": "X"}, timeout_s=0.3)
        assert 0.25 < time.monotonic() - t0 < 2.0
        assert c.pending == 0
        release.set()
        assert c.call("public/index", {"underlying": "BTCUSD"})["echo"] == "public/index"
        assert c.rejects.counts["late_reply"] == 1


def test_an_error_reply_raises_thalex_error_with_code_message_and_method():
    def script(conn):
        for req in requests(conn):
            conn.send(json.dumps({"id": req["id"], "error": {"code": 4, "message": "throttled"}}))

    with scripted_server(script) as url, ThalexClient(url) as c:
        with pytest.raises(ThalexError) as info:
            c.insert("buy", "BTC-PERPETUAL", 0.1, 65000.0, client_order_id=100)
        assert (info.value.code, info.value.message, info.value.method) == (4, "throttled", "private/insert")
        got = []
        c.send("private/cancel", {"client_order_id": 100}, callback=lambda r, e: got.append(e))
        rid = c.send("private/amend", {})
        while len(got) < 1 or not c.has_reply(rid):
            c.poll(0.1)
        assert got[0].code == 4 and got[0].method == "private/cancel"
        with pytest.raises(ThalexError, match="private/amend: Thalex error 4: throttled"):
            c.reply(rid)


MALFORMED = [
    ("{not json", "bad_json"),
    ("[1, 2]", "not_an_object"),
    ('{"hello": 1}', "unrecognised_frame"),
    ('{"id": 999, "result": 1}', "unknown_id"),
    ('{"id": "7", "result": 1}', "bad_id"),
    ('{"id": null, "error": {"code": 6, "message": "invalid request"}}', "reply_without_id"),
    ('{"channel_name": "nobody.listens", "notification": {}}', "unhandled_channel"),
    ('{"channel_name": "ticker.X", "no": "payload"}', "notification_missing"),
    ('{"channel_name": 5, "notification": {}}', "bad_channel_name"),
    (b"\x00\x01binary", "binary_frame"),
]


@pytest.mark.parametrize("bad, reason", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_a_malformed_frame_is_counted_and_logged_and_the_call_still_completes(bad, reason, caplog):
    def script(conn):
        req = json.loads(conn.recv())
        conn.send(bad)
        reply(conn, req, "ok")
        echo_server(conn)

    with caplog.at_level(logging.WARNING, logger="venue.client"):
        with scripted_server(script) as url, ThalexClient(url) as c:
            c.on("ticker.", lambda *a: None)
            assert c.call("public/instruments") == "ok"
            assert c.rejects.counts == {reason: 1}
    assert reason in caplog.text


def test_a_failing_handler_is_counted_and_does_not_break_the_loop():
    def script(conn):
        req = json.loads(conn.recv())
        conn.send(json.dumps({"channel_name": "ticker.X", "notification": {}}))
        reply(conn, req, "ok")
        echo_server(conn)

    with scripted_server(script) as url, ThalexClient(url) as c:
        c.on("ticker.", lambda *a: 1 / 0)
        assert c.call("public/instruments") == "ok"
        assert c.rejects.counts["handler_error"] == 1


def test_a_frame_hook_sees_raw_bytes_first_and_can_consume_them():
    def script(conn):
        req = json.loads(conn.recv())
        conn.send('{"channel_name": "ticker.X", "notification": {"hot": 1}}')
        conn.send('{"channel_name": "index.X", "notification": {}}')
        reply(conn, req, "ok")
        echo_server(conn)

    raw, cold = [], []
    with scripted_server(script) as url, ThalexClient(url) as c:
        c.frame_hook = lambda data: raw.append(bytes(data)) or data.startswith(b'{"channel_name": "ticker.')
        c.on("index.", lambda ch, n, f: cold.append(ch))
        assert c.call("public/instruments") == "ok"
    assert raw[0] == b'{"channel_name": "ticker.X", "notification": {"hot": 1}}'
    assert cold == ["index.X"]


def test_poll_returns_zero_after_its_timeout_when_nothing_arrives():
    with scripted_server(echo_server) as url, ThalexClient(url) as c:
        t0 = time.monotonic()
        assert c.poll(0.2) == 0
        assert 0.15 < time.monotonic() - t0 < 1.0
        assert c.poll(0.0) == 0


def test_poll_sends_keep_alive_pings_every_interval():
    with scripted_server(echo_server) as url, ThalexClient(url, ping_interval_s=0.05) as c:
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            c.poll(0.02)
        assert 4 <= c.pongs_received <= 13


def test_a_server_close_surfaces_as_a_connection_error():
    def script(conn):
        json.loads(conn.recv())
        conn.close(code=1001)

    with scripted_server(script) as url, ThalexClient(url) as c:
        with pytest.raises(ThalexConnectionError, match="1001|closed|lost"):
            c.call("public/instruments", timeout_s=5)
        assert not c.connected
        with pytest.raises(ThalexConnectionError, match="not connected"):
            c.send("public/instruments")


def test_connecting_to_a_closed_port_names_the_url():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ThalexConnectionError, match=f"127.0.0.1:{port}"):
        ThalexClient(f"ws://127.0.0.1:{port}/ws/api/v2", timeout_s=1)


def test_login_sends_a_verifiable_token_and_never_logs_it(rsa_key, caplog):
    tokens = []

    def script(conn):
        for req in requests(conn):
            token = req["params"]["token"]
            tokens.append(token)
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, rsa_key[1], algorithms=["RS512"])
            assert header["kid"] == "K42" and abs(claims["iat"] - time.time()) < 30
            assert req["params"].get("account") in (None, "A7")
            reply(conn, req, {"account_number": req["params"].get("account", "A1")})

    with caplog.at_level(logging.DEBUG):
        with scripted_server(script) as url, ThalexClient(url) as c:
            assert c.login("K42", rsa_key[0]) == {"account_number": "A1"}
            assert c.login("K42", rsa_key[0], account="A7") == {"account_number": "A7"}
            assert c.account_number == "A7"
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert all(t not in caplog.text for t in tokens)
    assert "PRIVATE KEY" not in caplog.text


def test_api_wrappers_send_thalex_method_names_and_drop_none_params():
    with scripted_server(echo_server) as url, ThalexClient(url) as c:
        r = c.insert("sell", "BTC-PERPETUAL", 0.2, 65010.0, client_order_id=105, post_only=True)
        assert r["echo"] == "private/insert"
        assert r["params"] == {"direction": "sell", "instrument_name": "BTC-PERPETUAL", "amount": 0.2,
                               "price": 65010.0, "client_order_id": 105, "post_only": True}
        assert c.amend(65005.0, 0.1, client_order_id=105)["params"] == {
            "client_order_id": 105, "price": 65005.0, "amount": 0.1}
        assert c.cancel(order_id="17")["params"] == {"order_id": "17"}
        assert c.set_cancel_on_disconnect(6)["params"] == {"timeout_secs": 6}
        assert c.set_mm_protection("FBTCUSD", 1.0, 0.5)["echo"] == "private/set_mm_protection"
        assert c.cancel_mass_quote()["params"] == {}
        quotes = [{"i": "BTC-PERPETUAL", "b": [[64990.0, 0.1]], "a": [[65010.0, 0.1]]}]
        assert c.mass_quote(quotes, post_only=True)["params"] == {"quotes": quotes, "post_only": True}
        for method, name in [(c.cancel_all, "private/cancel_all"), (c.cancel_session, "private/cancel_session"),
                             (c.portfolio, "private/portfolio"), (c.open_orders, "private/open_orders"),
                             (c.account_summary, "private/account_summary"), (c.instruments, "public/instruments")]:
            assert method()["echo"] == name
        assert c.trade_history(limit=10)["params"] == {"limit": 10}
        assert c.instrument("BTC-PERPETUAL")["echo"] == "public/instrument"
        assert c.ticker("BTC-PERPETUAL")["echo"] == "public/ticker"
        assert c.book("BTC-PERPETUAL")["echo"] == "public/book"
        assert c.index("BTCUSD")["params"] == {"underlying": "BTCUSD"}
        assert c.public_subscribe(["ticker.BTC-PERPETUAL.100ms"])["echo"] == "public/subscribe"
        assert c.private_subscribe(["session.orders"])["echo"] == "private/subscribe"
        assert c.unsubscribe(("session.orders",))["params"] == {"channels": ["session.orders"]}
        rid = c.insert("buy", "BTC-PERPETUAL", 0.1, 64000.0, wait=False)
        assert isinstance(rid, int)
        while not c.has_reply(rid):
            c.poll(0.1)
        assert c.reply(rid)["echo"] == "private/insert"
        with pytest.raises(ValueError, match="exactly one of client_order_id"):
            c.cancel(client_order_id=1, order_id="2")
        with pytest.raises(ValueError, match="direction='long'"):
            c.insert("long", "BTC-PERPETUAL", 0.1, 1.0)


def test_a_frame_split_across_poll_timeouts_is_reassembled():
    body = b'{"channel_name": "ticker.X", "notification": {"split": true}}'
    raw = bytes([0x81, len(body)]) + body  # one unmasked text frame, as a server sends it

    def script(conn):
        json.loads(conn.recv())
        conn.socket.sendall(raw[:20])
        time.sleep(0.3)  # longer than several client poll timeouts
        conn.socket.sendall(raw[20:])
        echo_server(conn)

    got = []
    with scripted_server(script) as url, ThalexClient(url) as c:
        c.on("ticker.", lambda ch, n, f: got.append(n))
        c.send("public/subscribe", {"channels": ["ticker.X"]})
        deadline = time.monotonic() + 5
        timeouts = 0
        while not got and time.monotonic() < deadline:
            timeouts += c.poll(0.05) == 0
        assert got == [{"split": True}] and timeouts >= 3
        assert c.call("public/index")["echo"] == "public/index"  # the stream is still in step
        assert c.rejects.counts == {}


def test_a_fragmented_message_is_delivered_whole():
    def script(conn):
        req = json.loads(conn.recv())
        text = json.dumps({"id": req["id"], "result": "x" * 5000})
        conn.send([text[:100], text[100:3000], text[3000:]])  # three websocket fragments
        echo_server(conn)

    with scripted_server(script) as url, ThalexClient(url) as c:
        assert c.call("public/instruments") == "x" * 5000


def test_closing_abandons_unanswered_requests():
    def script(conn):
        for _ in requests(conn):
            pass  # never answers

    with scripted_server(script) as url:
        c = ThalexClient(url)
        c.send("public/instruments")
        c.send("public/ticker", {"instrument_name": "X"})
        assert c.pending == 2
        c.close()
        assert c.pending == 0 and not c.connected


def test_a_ping_from_the_server_is_answered_with_a_pong_carrying_its_payload():
    pongs = []

    def script(conn):
        pong = conn.ping(b"are-you-there")
        pongs.append(pong.wait(5.0))
        conn.send('{"channel_name":"done","notification":1}')
        time.sleep(0.5)

    with scripted_server(script) as url, ThalexClient(url) as c:
        seen = []
        c.on("done", lambda ch, n, msg: seen.append(n))
        deadline = time.monotonic() + 5.0
        while not seen and time.monotonic() < deadline:
            c.poll(0.05)
    assert seen == [1] and pongs == [True]
