"""The single-order ladder (gateway.mass_quote = false) against the local exchange: after a partial
fill, re-quoting a level amends it to executed + wanted, so the exchange rests what is wanted
(private/amend's amount is the new *original* amount, volume-safe)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from procs.gateway.ladder_orders import LadderOrders
from shm import records as R
from still_market import BTC
from venue.decode.frame import KIND_ORDERS, FrameDecoder
from venue.ratelimit import ThalexLimits
from conf.schema import Gateway as GatewayConf

pytestmark = pytest.mark.timeout(60)


class LiveLadder:
    """A LadderOrders fed by session.orders the way the gateway feeds it (executions.py)."""

    def __init__(self, client):
        self.client = client
        self.cids = iter(range(500, 10_000))
        self.ladder = LadderOrders(BTC, ThalexLimits.from_config(GatewayConf(), time.monotonic_ns()), lambda: next(self.cids))
        self.decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), instrument_ids={BTC: 0})
        self.decoder.add("session.orders", 0)
        self.fills = 0.0
        client.frame_hook = self._on_frame
        assert client.private_subscribe(["session.orders"]) == ["session.orders"]

    def _on_frame(self, frame) -> bool:
        if b'"channel_name"' not in frame:
            return False              # a reply: the client's business
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()) or d.kind != KIND_ORDERS:
            return False
        for e in d.exec_out[:d.count]:
            kind = int(e["type"])
            filled = float(e["amount"]) if kind == R.EXEC_FILL else 0.0
            self.fills += filled
            self.ladder.on_order(int(e["client_order_id"]), float(e["remaining"]),
                                 kind == R.EXEC_CANCEL or (kind == R.EXEC_FILL and e["remaining"] <= 0),
                                 filled)
        return True

    def quote_bid(self, price: float, amount: float) -> None:
        q = np.zeros(1, R.QUOTE_DTYPE)
        q["type"], q["n_bids"] = R.QUOTE_SET, 1
        q["bid_price"][0][0], q["bid_amount"][0][0] = price, amount
        deadline = time.monotonic() + 5.0
        while not self.ladder.apply(self.client, q, "ladder", time.monotonic_ns()):
            assert time.monotonic() < deadline, "the ladder never got a token to send"
            self.client.poll(0.05)    # out of tokens (10 orders/s): retried, as the gateway does
        self.settle()

    def settle(self, timeout_s: float = 5.0) -> None:
        """Poll until every request sent has been answered."""
        deadline = time.monotonic() + timeout_s
        while self.client.pending and time.monotonic() < deadline:
            self.client.poll(0.05)
        assert not self.client.pending

    def wait_fills(self, amount: float, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.fills < amount - 1e-12 and time.monotonic() < deadline:
            self.client.poll(0.05)
        assert self.fills == pytest.approx(amount)

    def resting(self) -> dict:
        [order] = [o for o in self.client.open_orders() if o.get("label") == "ladder"]
        return order


def test_a_partly_filled_level_is_topped_up_to_the_wanted_amount_not_cut_by_the_fill(sim, our_client):
    live = LiveLadder(our_client)
    price = our_client.book(BTC)["bids"][0][0] + 1          # our bid is the best: flow hits it first
    live.quote_bid(price, 0.01)
    assert live.resting()["remaining_amount"] == pytest.approx(0.01)

    sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.004})
    live.wait_fills(0.004)
    live.quote_bid(price, 0.01)                              # the same ladder again
    order = live.resting()
    assert order["filled_amount"] == pytest.approx(0.004)
    assert order["amount"] == pytest.approx(0.014)           # executed + wanted
    assert order["remaining_amount"] == pytest.approx(0.01)  # what the ladder wants resting

    sim.call("sim/trade", {"instrument": BTC, "direction": "sell", "amount": 0.002})
    live.wait_fills(0.006)
    live.quote_bid(price, 0.003)                             # a smaller level after more fills
    order = live.resting()
    assert (order["amount"], order["remaining_amount"]) == (pytest.approx(0.009), pytest.approx(0.003))
    assert order["price"] == price
