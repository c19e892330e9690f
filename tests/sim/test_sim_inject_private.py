"""sim/inject_private: the test hook that makes the exchange send raw frames, lies included, to
the logged-in connections of one account (the gateway of ``bin/mm run``), and to no one else."""
from __future__ import annotations

import pytest
import websocket

from test_sim_inject_public import raw_frames

pytestmark = pytest.mark.timeout(60)


def test_frames_reach_the_accounts_connections_only_as_sent(connect, trader, new_key):
    other = connect()
    other.login(*new_key())
    public, caller = connect(), connect()
    public.call("public/system_info")
    lie = '{"channel_name": "session.orders", "notification": {"amount": "lots"}}'
    reply = caller.call("sim/inject_private", {"account": trader.account, "frames": [lie, "[1"],
                                               "repeat": 2, "interval_s": 0.05, "pad_bytes": 10})
    assert reply["result"] == {"connections": 1, "frames": 4}
    assert [text for _, text in raw_frames(trader, 4)] == [lie + " " * 10, "[1" + " " * 10] * 2
    for client in (other, public, caller):           # another account, a public feed, the caller
        client.ws.settimeout(0.3)
        with pytest.raises(websocket.WebSocketTimeoutException):
            client.ws.recv()


@pytest.mark.parametrize("params,match", [({"frames": ["x"]}, "account"),
                                          ({"account": "nobody", "frames": ["x"]}, "no such account"),
                                          ({"account": "A", "frames": []}, "frames=")])
def test_bad_parameters_are_refused_naming_them(connect, trader, params, match):
    if params.get("account") == "A":
        params["account"] = trader.account
    reply = connect().call("sim/inject_private", params)
    assert reply["error"]["code"] == 6 and match in reply["error"]["message"], reply
