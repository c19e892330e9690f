"""sim/inject_public: the test hook that makes the exchange send raw public frames, lies included,
to the public connections of a running client (the feed of ``bin/mm run``)."""
from __future__ import annotations

import time

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)


def raw_frames(client, n: int, timeout_s: float = 5.0) -> list[tuple[float, str]]:
    """The next ``n`` text frames exactly as sent, with the time each arrived."""
    out = []
    client.ws.settimeout(timeout_s)
    for _ in range(n):
        text = client.ws.recv()
        out.append((time.monotonic(), text))
    return out


def test_frames_reach_public_connections_as_sent_but_not_the_caller_nor_a_logged_in_one(connect, trader):
    listener, caller = connect(), connect()
    listener.call("public/system_info")
    before = time.time()
    reply = caller.call("sim/inject_public", {"frames": ["{not json", '{"channel_name": "x", "notification": $NOW}']})
    assert reply["result"]["frames"] == 2 and reply["result"]["connections"] >= 1
    (_, first), (_, second) = raw_frames(listener, 2)
    assert first == "{not json"
    stamped = float(second.split(": ")[-1].rstrip("}"))
    assert before <= stamped <= time.time()                       # "$NOW" became the sending time
    trader.ws.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        trader.ws.recv()                                          # logged in: not a public feed
    caller.ws.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        caller.ws.recv()


def test_frames_repeat_at_the_interval_and_can_be_padded_beyond_a_megabyte(connect):
    listener, caller = connect(), connect()
    listener.call("public/system_info")
    start = time.monotonic()
    caller.result("sim/inject_public", {"frames": ["[1]"], "repeat": 3, "interval_s": 0.2})
    got = raw_frames(listener, 3)
    assert [text for _, text in got] == ["[1]"] * 3
    assert got[2][0] - start >= 0.38                              # the third two intervals later
    caller.result("sim/inject_public", {"frames": ['{"a": 1}'], "pad_bytes": 2 << 20})
    (_, big), = raw_frames(listener, 1)
    assert len(big) == len('{"a": 1}') + (2 << 20) and big.startswith('{"a": 1}')


@pytest.mark.parametrize("params,match", [({}, "frames"), ({"frames": "x"}, "frames="), ({"frames": [1]}, "frames="),
                                          ({"frames": ["x"], "repeat": 0}, "repeat="),
                                          ({"frames": ["x"] * 100, "repeat": 1000}, "at most"),
                                          ({"frames": ["x"], "interval_s": -1}, "interval_s=")])
def test_bad_parameters_are_refused_naming_them(connect, params, match):
    reply = connect().call("sim/inject_public", params)
    assert reply["error"]["code"] == 6 and match in reply["error"]["message"], reply
