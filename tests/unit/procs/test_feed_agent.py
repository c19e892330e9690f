"""The feed against the local exchange over a real websocket: tickers become md records and public
trades become trade records on real rings; silence marks the data stale; a dropped connection is
reconnected and resubscribed."""
import time

import pytest

from procs.feed import Feed
from runtime import segments
from shm import records as R

from agent_kit import BTC, MARK, drain, wait_until
from runtime.reconnect import ReconnectPolicy

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def readers(segs, instance):
    md, trades = segments.reader(instance, "md"), segments.reader(instance, "trades")
    yield md, trades
    md.close()
    trades.close()


@pytest.fixture
def feed(segs, instance, sim, readers):
    f = Feed(instance, sim.url, [BTC], "raw", stale_after_s=0.5, reconnect=ReconnectPolicy(0.05, 0.2))
    f.on_start()
    yield f
    f.on_close()


def gather(feed, reader, dtype, enough, what, timeout_s=10.0):
    got = []

    def step():
        feed.do_work()
        got.extend(drain(reader, dtype))
    wait_until(lambda: enough(got), timeout_s, step, what)
    return got


def test_tickers_of_the_exchange_become_md_records_and_the_data_is_marked_fresh(feed, readers, segs):
    assert segs["state"].get("md_stale") == 1                 # nothing seen yet
    got = gather(feed, readers[0], R.MD_DTYPE, lambda g: len(g) >= 3, "three md records")
    r = got[-1]
    assert r["type"] == R.MD_TICKER and r["instrument_id"] == BTC.id
    assert r["mark_price"] == pytest.approx(MARK, abs=1.0) and r["best_bid_price"] < r["best_ask_price"]
    assert r["receive_ts_ns"] <= r["publish_ts_ns"] and r["exchange_ts_ns"] > 0
    assert not r["flags"] & R.MD_FLAG_STALE and segs["state"].get("md_stale") == 0


def test_public_trades_become_trade_records(feed, readers, sim):
    gather(feed, readers[0], R.MD_DTYPE, lambda g: len(g) >= 1, "market data flowing")
    assert "result" in sim.call("sim/trade", {"instrument": BTC.name, "direction": "buy", "amount": 0.003})
    got = gather(feed, readers[1], R.TRADE_DTYPE, lambda g: len(g) >= 1, "a trade record")
    assert (got[0]["instrument_id"], got[0]["side"], got[0]["amount"]) == (BTC.id, 1, pytest.approx(0.003))
    assert got[0]["price"] > MARK


def test_silence_republishes_the_last_record_flagged_stale_and_raises_md_stale(feed, readers, sim, segs):
    gather(feed, readers[0], R.MD_DTYPE, lambda g: len(g) >= 1, "market data flowing")
    assert "result" in sim.call("sim/stall_feed", {"seconds": 1.5})
    got = gather(feed, readers[0], R.MD_DTYPE, lambda g: any(r["flags"] & R.MD_FLAG_STALE for r in g),
                 "a stale record")
    stale = [r for r in got if r["flags"] & R.MD_FLAG_STALE]
    assert stale[0]["mark_price"] == pytest.approx(MARK, abs=1.0) and segs["state"].get("md_stale") == 1
    gather(feed, readers[0], R.MD_DTYPE, lambda g: any(not r["flags"] & R.MD_FLAG_STALE for r in g),
           "fresh data after the stall")
    assert segs["state"].get("md_stale") == 0


def test_a_stale_record_is_stamped_when_it_is_published_not_before_the_socket_wait(segs, instance, sim, readers):
    # The feed waits up to wait_s on the socket each pass. The stale record's receive time is what
    # the quoter's md -> quote and the hop figures count from: stamped before a 200 ms wait, the
    # record would look ~200 ms old the moment it appears.
    f = Feed(instance, sim.url, [BTC], "raw", stale_after_s=0.3, reconnect=ReconnectPolicy(0.05, 0.2),
             wait_s=0.2)
    f.on_start()
    try:
        gather(f, readers[0], R.MD_DTYPE, lambda g: len(g) >= 1, "market data flowing")
        assert "result" in sim.call("sim/stall_feed", {"seconds": 3.0})
        ages = []

        def step():
            f.do_work()
            for r in drain(readers[0], R.MD_DTYPE):
                if r["flags"] & R.MD_FLAG_STALE:
                    ages.append(time.monotonic_ns() - int(r["receive_ts_ns"]))
        wait_until(lambda: ages, 10.0, step, "a stale record")
        assert ages[0] < 100e6, f"the stale record was {ages[0] / 1e6:.1f} ms old when it appeared"
    finally:
        f.on_close()


def test_a_dropped_connection_is_reconnected_and_resubscribed(feed, readers, sim):
    gather(feed, readers[0], R.MD_DTYPE, lambda g: len(g) >= 1, "market data flowing")
    assert sim.call("sim/drop_connections", {"scope": "public"})["result"]["dropped"] >= 1
    wait_until(lambda: feed.connects == 2, 10.0, feed.do_work, "a reconnect")
    drain(readers[0], R.MD_DTYPE)
    gather(feed, readers[0], R.MD_DTYPE, lambda g: len(g) >= 2, "market data after the reconnect")


def test_a_wrong_url_fails_the_start(segs, instance):
    f = Feed(instance, "ws://127.0.0.1:9/ws/api/v2", [BTC], "raw", 0.5, ReconnectPolicy(0.05, 0.2), timeout_s=1.0)
    try:
        with pytest.raises(Exception, match="cannot connect to ws://127.0.0.1:9"):
            f.on_start()
    finally:
        f.on_close()


def test_the_gateway_is_rung_as_a_ticker_frame_arrives_before_its_record_is_published(segs, instance, sim, readers):
    """The early ring (procs/feed.py on_start): the gateway's wake-up on its own core overlaps
    the decode and the quoter's pass. Each ring comes before the record it announces is written
    (the md ring's write position has not moved yet); trades frames ring nobody."""
    f = Feed(instance, sim.url, [BTC], "raw", stale_after_s=5.0, reconnect=ReconnectPolicy(0.05, 0.2))
    f.prewake = True
    f.on_start()
    events = []
    gateway, quoter = f.ring_gateway, f.ring_quoter
    f.ring_gateway = lambda: (events.append(("gateway", int(f.md_ring.tail))), gateway())
    f.ring_quoter = lambda: (events.append(("quoter", int(f.md_ring.tail))), quoter())
    try:
        gather(f, readers[0], R.MD_DTYPE, lambda g: len(g) >= 3, "three md records")
        assert "result" in sim.call("sim/trade", {"instrument": BTC.name, "direction": "buy", "amount": 0.003})
        gather(f, readers[1], R.TRADE_DTYPE, lambda g: len(g) >= 1, "a trade record")
    finally:
        f.on_close()
    pairs = list(zip(events[::2], events[1::2]))
    assert len(pairs) >= 3 and len(events) == 2 * len(pairs)
    for (first, at_ring), (second, at_publish) in pairs:
        assert (first, second) == ("gateway", "quoter")
        assert at_publish == at_ring + 1      # the record was written between the two rings
    assert f.published == len(pairs)          # one early ring per ticker record, none for trades
