"""The feed and the gateway compare a subscribe answer with what they asked (the exchange answers
successfully even when it subscribed nothing): a missing required channel stops the connection
with an error naming it, a missing optional one is logged. The exchange is scripted here: the
local one never refuses the channels these processes ask for."""
from __future__ import annotations

import json
import logging

import pytest

from conf.schema import Gateway as GatewayConf
from procs.feed import Feed
from procs.gateway.session import Session
from runtime.settings import Instrument
from venue.client import ThalexClient
from venue.errors import SubscriptionError

from conftest import scripted_server
from runtime.reconnect import ReconnectPolicy

pytestmark = pytest.mark.timeout(60)
BTC = Instrument(0, "BTC-PERPETUAL", "FBTCUSD", 1.0, 0.001, 0.001, 0.0)
TICKER, TRADES = "ticker.BTC-PERPETUAL.raw", "recent_trades.BTC-PERPETUAL.single"


def exchange(granted):
    """A scripted exchange: subscribe grants only the channels in ``granted``; every other
    request the gateway makes on connect gets a plausible result."""
    results = {"public/login": {"account_number": "A1"},
               "private/set_cancel_on_disconnect": {"message_rate": 50},
               "private/set_mm_protection": None}

    def script(conn):
        for raw in iter(conn.recv, None):
            req = json.loads(raw)
            if req["method"].endswith("subscribe"):
                result = [c for c in req["params"]["channels"] if c in granted]
            else:
                result = results[req["method"]]
            conn.send(json.dumps({"id": req["id"], "result": result}))
    return script


def feed(url) -> Feed:
    return Feed("unused", url, [BTC], "raw", 2.0, ReconnectPolicy(0.2, 10.0), timeout_s=5.0)


def test_the_feed_refuses_to_run_without_its_ticker_naming_the_channel():
    with scripted_server(exchange({TRADES})) as url:
        f = feed(url)
        with pytest.raises(SubscriptionError, match=TICKER) as err:
            f._connect()
    assert err.value.missing == [TICKER] and f.client is None


def test_the_feed_runs_without_trades_and_logs_the_missing_channel(caplog):
    with scripted_server(exchange({TICKER})) as url:
        f = feed(url)
        with caplog.at_level(logging.ERROR, logger="feed"):
            f._connect()
        assert f.client is not None and f.client.connected
        f.client.close()
    assert TRADES in caplog.text


def session(url, rsa_key, mass_quote=True) -> Session:
    """The gateway's session alone: subscribing needs only its configuration and a client."""
    return Session(url, "K1", rsa_key[0], "", 5.0, 10.0, GatewayConf(mass_quote=mass_quote), [BTC],
                   limits=None, state=None, executions=None, open_orders=None, quoting=None,
                   exits=None, mmp=None)


def logged_in_client(url, rsa_key) -> ThalexClient:
    client = ThalexClient(url)
    client.login("K1", rsa_key[0])
    return client


def test_the_gateway_stops_the_connection_without_session_orders_naming_it(rsa_key):
    with scripted_server(exchange({"account.trade_history", "session.mm_protection"})) as url:
        client = logged_in_client(url, rsa_key)
        try:
            with pytest.raises(SubscriptionError, match="session.orders") as err:
                session(url, rsa_key).subscribe(client)
        finally:
            client.close()
    assert err.value.missing == ["session.orders"]


def test_a_mass_quoting_gateway_also_needs_its_protection_channel(rsa_key):
    with scripted_server(exchange({"session.orders", "account.trade_history"})) as url:
        client = logged_in_client(url, rsa_key)
        try:
            with pytest.raises(SubscriptionError) as err:
                session(url, rsa_key).subscribe(client)
        finally:
            client.close()
    assert err.value.missing == ["session.mm_protection"]


def test_the_gateway_goes_on_without_the_trade_history_and_logs_it(rsa_key, caplog):
    with scripted_server(exchange({"session.orders"})) as url:
        client = logged_in_client(url, rsa_key)
        with caplog.at_level(logging.ERROR, logger="gateway"):
            session(url, rsa_key, mass_quote=False).subscribe(client)
        client.close()
    assert "account.trade_history" in caplog.text
