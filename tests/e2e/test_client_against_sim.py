"""Our own Thalex client (procs/venue) against the local exchange over a real websocket.

The same calls the feed and the gateway make: login, instruments, ticker subscription decoded
into an MD record, post-only insert acknowledged on session.orders, error 1 on a dead order,
a marketable order whose fill is decoded into an exec record, cancel-on-disconnect.
"""
import time

import numpy as np
import pytest

from procs.venue.client import ThalexClient
from procs.venue.errors import ThalexError
from procs.venue.frame_decoder import FrameDecoder, KIND_ORDERS, KIND_TICKER
from shm import records as R
from sim.testing import make_key_pair, running_sim

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


def pump_until(client, decoder, kind, timeout_s=10.0):
    """Feed raw frames to the decoder until it writes a record of ``kind``."""
    hit = []

    def hook(frame):
        if decoder.decode(frame, time.monotonic_ns()) != 0:
            return False          # a reply, or a channel this decoder does not know: the client's
        if decoder.kind == kind:
            hit.append(decoder.count)
        return True
    client.frame_hook = hook
    deadline = time.monotonic() + timeout_s
    while not hit and time.monotonic() < deadline:
        client.poll(0.1)
    client.frame_hook = None
    assert hit, f"no record of kind {kind} within {timeout_s} s; rejected: {decoder.rejected()}"
    return hit[0]


def test_instruments_carry_thalex_tick_sizes(client):
    names = {i["instrument_name"]: i for i in client.instruments()}
    assert names[BTC]["tick_size"] == 1 and names[BTC]["volume_tick_size"] == 0.001


def test_ticker_frames_decode_into_a_market_record(client):
    md = np.zeros(1, R.MD_DTYPE)
    decoder = FrameDecoder(md, instrument_ids={BTC: 1})
    channel = f"ticker.{BTC}.raw"
    decoder.add(channel, 1)
    client.public_subscribe([channel])
    pump_until(client, decoder, KIND_TICKER)
    rec = md[0]
    assert rec["type"] == R.MD_TICKER and rec["instrument_id"] == 1
    assert 0 < rec["best_bid_price"] < rec["best_ask_price"] and rec["mark_price"] > 0
    assert rec["exchange_ts_ns"] > 1_600_000_000 * 10**9


def test_post_only_insert_is_acknowledged_and_cancel_of_a_dead_order_is_error_1(client):
    ex = np.zeros(8, R.EXEC_DTYPE)
    decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), exec_out=ex, instrument_ids={BTC: 1})
    decoder.add("session.orders", 0)
    client.private_subscribe(["session.orders"])
    book = client.book(BTC)
    price = book["bids"][0][0] - 50
    status = client.insert("buy", BTC, 0.001, price, post_only=True, client_order_id=101)
    assert status["status"] == "open"
    n = pump_until(client, decoder, KIND_ORDERS)
    assert any(ex[i]["type"] == R.EXEC_ACK and ex[i]["client_order_id"] == 101 for i in range(n))
    client.cancel(client_order_id=101)
    with pytest.raises(ThalexError) as err:
        client.cancel(client_order_id=101)
    assert err.value.code == 1


def test_a_marketable_order_fills_and_the_fill_is_decoded(client):
    ex = np.zeros(8, R.EXEC_DTYPE)
    decoder = FrameDecoder(np.zeros(1, R.MD_DTYPE), exec_out=ex, instrument_ids={BTC: 1})
    decoder.add("session.orders", 0)
    client.private_subscribe(["session.orders"])
    status = client.insert("buy", BTC, 0.002, order_type="market", client_order_id=7)
    assert status["filled_amount"] == pytest.approx(0.002)
    fills = []
    deadline = time.monotonic() + 10
    while not fills and time.monotonic() < deadline:
        n = pump_until(client, decoder, KIND_ORDERS)
        fills = [ex[i] for i in range(n) if ex[i]["type"] == R.EXEC_FILL]
    assert fills and fills[0]["liquidity"] == R.LIQ_TAKER and fills[0]["side"] == 1
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
