"""Fixtures for the local exchange's tests: a real ``python -m sim`` subprocess on 127.0.0.1 and
fresh API keys registered with it, so every test trades on its own account."""
from __future__ import annotations

import pytest

from testkit.exchange import make_key_pair, running_sim

from still_market import STILL


@pytest.fixture(scope="module")
def sim():
    with running_sim(**STILL) as running:
        yield running


@pytest.fixture
def new_key(sim, tmp_path):
    """A function that makes a key pair, registers it with ``sim`` and returns (kid, private)."""
    def make():
        kid, private, public = make_key_pair(tmp_path)
        reply = sim.call("sim/register_key", {"key_id": kid, "public_key": public.read_text()})
        assert "result" in reply, reply
        return kid, private
    return make


@pytest.fixture
def connect(sim):
    """A function returning new connected clients; all are closed after the test."""
    opened = []

    def make(timeout_s: float = 10.0):
        client = sim.client(timeout_s)
        opened.append(client)
        return client
    yield make
    for client in opened:
        client.close()


@pytest.fixture
def trader(connect, new_key):
    """A logged-in client on a fresh account; ``trader.key`` = (kid, private key path)."""
    client = connect()
    client.key = new_key()
    client.account = client.login(*client.key)
    yield client
    # Leave the shared book as the next test expects it: only background liquidity.
    try:
        client.call("private/cancel_all")
    except Exception:
        pass                               # the test closed or broke this connection


@pytest.fixture
def our_client(sim, new_key):
    """Our own ThalexClient (venue/) logged in on a fresh account; ``our_client.key`` =
    (kid, private key path). Its orders and conditional orders are cancelled afterwards."""
    from venue.client import ThalexClient
    kid, private = new_key()
    client = ThalexClient(sim.url, timeout_s=10.0)
    client.login(kid, private.read_text())
    client.key = (kid, private)
    yield client
    try:
        client.cancel_all()
        client.cancel_all_conditional_orders()
    except Exception:
        pass                               # the test closed or broke this connection
    client.close()
