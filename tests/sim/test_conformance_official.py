"""The official ``thalex`` 1.3.0 client drives the local exchange unchanged: login, instruments,
insert, cancel, mass quote, cancel_session, with every reply read through ``receive()``."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from testkit.exchange import make_key_pair, running_sim
from still_market import BEST_ASK, BEST_BID, BTC, STILL

thalex = pytest.importorskip("thalex")
pytestmark = pytest.mark.timeout(60)


async def reply(th, req_id, timeout_s=5.0):
    """The reply to ``req_id`` (notifications in between are skipped)."""
    async def wait():
        while True:
            msg = json.loads(await th.receive())
            if "channel_name" not in msg and msg.get("id") == req_id:
                return msg
    return await asyncio.wait_for(wait(), timeout_s)


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    kid, private, public = make_key_pair(tmp_path_factory.mktemp("keys"))
    with running_sim(api_keys={kid: public}, **STILL) as sim:
        yield sim, kid, private.read_text()


def test_the_official_client_trades_against_the_local_exchange(venue):
    sim, kid, private_pem = venue

    async def session():
        th = thalex.Thalex(SimpleNamespace(value=sim.url))
        await th.connect()
        try:
            await th.instruments(id=1)
            first = json.loads(await th.receive())         # nothing unsolicited comes first
            assert first["id"] == 1
            assert BTC in [i["instrument_name"] for i in first["result"]]

            await th.login(kid, private_pem, id=2)
            assert (await reply(th, 2))["result"]["account_number"].startswith("A")
            await th.set_cancel_on_disconnect(6, id=3)
            assert (await reply(th, 3))["result"] == {"message_rate": 50}
            await th.private_subscribe(["session.orders", "account.portfolio"], id=4)
            assert (await reply(th, 4))["result"] == ["session.orders", "account.portfolio"]

            await th.insert(thalex.Direction.BUY, BTC, 0.01, client_order_id=100,
                            price=BEST_BID - 10, post_only=True, id=100)
            inserted = (await reply(th, 100))["result"]
            assert inserted["status"] == "open" and inserted["client_order_id"] == 100
            await th.cancel(client_order_id=100, id=101)
            assert (await reply(th, 101))["result"]["delete_reason"] == "client_cancel"
            await th.cancel(client_order_id=100, id=102)
            assert (await reply(th, 102))["error"]["code"] == 1

            await th.insert(thalex.Direction.BUY, BTC, 0.01, order_type=thalex.OrderType.MARKET,
                            id=103)
            market = (await reply(th, 103))["result"]
            assert market["direction"] == "buy" and market["fills"][0]["price"] == BEST_ASK

            await th.set_mm_protection(thalex.Product.BTC_FUTURES, 0.5, 0.5, id=5)
            assert "result" in await reply(th, 5)
            quotes = [thalex.Quote(BTC, thalex.SideQuote(BEST_BID - 1, 0.02),
                                   thalex.SideQuote(BEST_ASK + 1, 0.02))]
            await th.mass_quote(quotes, label="mq", id=6)
            assert (await reply(th, 6))["result"]["n_success"] == 2
            await th.portfolio(id=7)
            [line] = (await reply(th, 7))["result"]
            assert line["instrument_name"] == BTC and line["position"] == 0.01

            await th.cancel_session(id=8)
            assert (await reply(th, 8))["result"] is None
            await th.open_orders(id=9)
            assert (await reply(th, 9))["result"] == []
        finally:
            await th.disconnect()

    asyncio.run(session())
