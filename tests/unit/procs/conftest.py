"""Fixtures for the agents' unit tests: every segment of a pipeline in a temporary instance, and a
real local exchange (``python -m sim``, still: no random walk, no background flow) on 127.0.0.1
with a fresh account per test."""
from __future__ import annotations

import pytest

from runtime import segments
from sim.accounts import account_number_for
from testkit.exchange import make_key_pair, running_sim


@pytest.fixture
def segs(instance):
    """Every segment of instance ``instance`` (created here, the owner); closed and unlinked after."""
    made = segments.create_all(instance)
    yield made
    for seg in made.values():
        seg.close()


@pytest.fixture(scope="session")
def sim():
    with running_sim(volatility=0, flow_rate=0, seed=1) as running:
        yield running


@pytest.fixture
def account(sim, tmp_path):
    """A fresh account on ``sim``: (key id, private key path, account number)."""
    kid, private, public = make_key_pair(tmp_path / "keys")
    reply = sim.call("sim/register_key", {"key_id": kid, "public_key": public.read_text()})
    assert "result" in reply, reply
    return kid, private, account_number_for(kid)


@pytest.fixture
def exchange_state(sim):
    """``exchange_state(account_number)``: the exchange's positions and open orders of an account."""
    def get(account_number: str) -> dict:
        reply = sim.call("sim/portfolio", {"account": account_number})
        assert "result" in reply, reply
        return reply["result"]
    return get
