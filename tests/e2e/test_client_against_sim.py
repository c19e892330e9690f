"""Our own Thalex client (venue/) against the local exchange over a real websocket.

The same calls the feed and the gateway make: login, instruments, ticker subscription decoded
into an MD record, post-only insert acknowledged on session.orders, error 1 on a dead order,
a marketable order whose fill is decoded into an exec record, cancel-on-disconnect.
"""
import time

import numpy as np
import pytest

from venue.client import ThalexClient
from venue.errors import ThalexError
from venue.decode.frame import FrameDecoder, KIND_ORDERS, KIND_TICKER
from shm import records as R
from testkit.exchange import make_key_pair, running_sim

pytestmark = pytest.mark.timeout(90)
BTC = "BTC-PERPETUAL"


@pytest.fixture(scope="module")
def sim():
    with running_sim(volatility=1.0, flow_rate=0, seed=3) as running:
        yield running


@pytest.fixture
def client(sim, tmp_path):
    kid, private, public = make_key_pair(tmp_path)
    assert "result" in sim.call("sim/register_key", {"key_id": kid, "public_key": public.read_text()})
    c = ThalexClient(sim.url, timeout_s=10.0)
    c.connect()
    c.login(kid, private.read_text())
    yield c
    c.close()


class Pump:
    """Routes every notification frame through ``decoder`` (as the feed and gateway do) and keeps
    a copy of each record written, by kind; replies still go to the client."""

    def __init__(self, client, decoder):
        self.client, self.decoder, self.records = client, decoder, {}
        client.frame_hook = self._hook

    def _hook(self, frame):
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()) != 0:
            return False          # a reply, or a channel this decoder does not know: the client's
        source = {KIND_TICKER: d.md_out, KIND_ORDERS: d.exec_out}.get(d.kind)
        if source is not None:
            self.records.setdefault(d.kind, []).extend(source[:d.count].copy())
        return True

    def wait(self, kind, predicate=lambda rec: True, timeout_s=10.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [r for r in self.records.get(kind, []) if predicate(r)]
            if found:
                return found
            self.client.poll(0.1)
        raise AssertionError(f"no matching record of kind {kind} within {timeout_s} s; "
                             f"rejected: {self.decoder.rejected()}")


def test_instruments_carry_thalex_tick_sizes(client):
    names = {i["instrument_name"]: i for i in client.instruments()}
    assert names[BTC]["tick_size"] == 1 and names[BTC]["volume_tick_size"] == 0.001


def test_ticker_frames_decode_into_a_market_record(client):
    md = np.zeros(1, R.MD_DTYPE)
    decoder = FrameDecoder(md, instrument_ids={BTC: 1})
    channel = f"ticker.{BTC}.raw"
    decoder.add(channel, 1)
    pump = Pump(client, decoder)
    client.public_subscribe([channel])
    rec = pump.wait(KIND_TICKER)[-1]
    assert rec["type"] == R.MD_TICKER and rec["instrument_id"] == 1
    assert 0 < rec["best_bid_price"] < rec["best_ask_price"] and rec["mark_price"] > 0
    assert rec["exchange_ts_ns"] > 1_600_000_000 * 10**9


def test_post_only_insert_is_acknowledged_and_cancel_of_a_dead_order_is_error_1(client):
    decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), instrument_ids={BTC: 1})
    decoder.add("session.orders", 0)
    pump = Pump(client, decoder)
    client.private_subscribe(["session.orders"])
    book = client.book(BTC)
    price = book["bids"][0][0] - 50
    status = client.insert("buy", BTC, 0.001, price, post_only=True, client_order_id=101)
    assert status["status"] == "open"
    pump.wait(KIND_ORDERS, lambda r: r["type"] == R.EXEC_ACK and r["client_order_id"] == 101)
    client.cancel(client_order_id=101)
    with pytest.raises(ThalexError) as err:
        client.cancel(client_order_id=101)
    assert err.value.code == 1


def test_a_marketable_order_fills_and_the_fill_is_decoded(client):
    decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), instrument_ids={BTC: 1})
    decoder.add("session.orders", 0)
    pump = Pump(client, decoder)
    client.private_subscribe(["session.orders"])
    status = client.insert("buy", BTC, 0.002, order_type="market", client_order_id=7)
    assert status["filled_amount"] == pytest.approx(0.002)
    fills = pump.wait(KIND_ORDERS, lambda r: r["type"] == R.EXEC_FILL)
    assert fills[0]["liquidity"] == R.LIQ_TAKER and fills[0]["side"] == 1
    assert fills[0]["amount"] == pytest.approx(0.002) and fills[0]["price"] > 0
    positions = {p["instrument_name"]: p["position"] for p in client.portfolio()}
    assert positions[BTC] == pytest.approx(0.002)
    client.insert("sell", BTC, 0.002, order_type="market", client_order_id=8)


def test_cancel_on_disconnect_removes_the_sessions_orders(sim, tmp_path):
    kid, private, public = make_key_pair(tmp_path)
    sim.call("sim/register_key", {"key_id": kid, "public_key": public.read_text()})
    first = ThalexClient(sim.url, timeout_s=10.0)
    first.connect()
    first.login(kid, private.read_text())
    first.set_cancel_on_disconnect(5)
    price = first.book(BTC)["bids"][0][0] - 100
    first.insert("buy", BTC, 0.001, price, post_only=True, client_order_id=1)
    first.close()
    second = ThalexClient(sim.url, timeout_s=10.0)
    second.connect()
    second.login(kid, private.read_text())
    deadline = time.monotonic() + 10
    while second.open_orders() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert second.open_orders() == []
    second.close()
