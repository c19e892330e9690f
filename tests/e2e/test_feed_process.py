"""The feed agent against the local exchange (a real ``python -m sim`` on 127.0.0.1, real rings):
stale data, data that lies, and the recent_trades snapshot across reconnects.

The Feed runs in the test process (its ``do_work`` driven by the test) so the test reads the very
records it publishes; the exchange is a subprocess and every frame crosses a real websocket.
"""
from __future__ import annotations

import math
import time

import numpy as np
import orjson
import pytest

from kernels.intensity import IntensityEstimator
from procs.feed import Feed
from procs.md_checks import MdChecks
from runtime import segments
from runtime.reconnect import ReconnectPolicy
from runtime.settings import Instrument
from shm.records import MD_DTYPE, MD_FLAG_IMPLAUSIBLE, MD_FLAG_STALE, TRADE_DTYPE
from shm.state import MD_REFUSED_NAMES, SharedState
from testkit.exchange import running_sim
from runtime.reconnect import ReconnectPolicy

pytestmark = pytest.mark.timeout(120)
BTC = "BTC-PERPETUAL"
TICKER = f"ticker.{BTC}.raw"
TRADES = f"recent_trades.{BTC}.single"


class FeedUnderTest:
    """A Feed on its own segments, and readers that collect what it publishes."""

    def __init__(self, instance: str, url: str, stale_after_s: float = 0.6):
        self.segs = segments.create_all(instance)
        inst = Instrument(0, BTC, "FBTCUSD", 1.0, 0.001, 0.001, 0.0)
        checks = MdChecks([BTC], 1.0, 10.0, 500.0, 1000.0, 5.0)
        self.feed = Feed(instance, url, [inst], "raw", stale_after_s, ReconnectPolicy(0.1, 1.0), 1.0, checks=checks)
        self.feed.on_start()
        self.md_reader = segments.reader(instance, "md")
        self.trades_reader = segments.reader(instance, "trades")
        self.state = SharedState.attach(instance)
        self.md: list = []
        self.trades: list = []
        self._md, self._trades = np.zeros(1, MD_DTYPE), np.zeros(256, TRADE_DTYPE)

    def run(self, seconds: float) -> None:
        self.until(lambda: False, seconds, must=False)

    def until(self, predicate, timeout_s: float = 10.0, must: bool = True, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.feed.do_work()
            while self.md_reader.read_into(self._md):
                self.md.append(self._md[0].copy())
            n = self.trades_reader.read_batch(self._trades)
            self.trades.extend(self._trades[:n].copy())
            if predicate():
                return
        if must:
            raise AssertionError(f"{what} not within {timeout_s}s")

    def close(self) -> None:
        self.feed.on_close()
        for seg in (self.md_reader, self.trades_reader, self.state):
            seg.close()
        for seg in self.segs.values():
            seg.close()


@pytest.fixture
def market():
    with running_sim(seed=3, volatility=5.0, flow_rate=4.0) as sim:
        yield sim


@pytest.fixture
def fut(market, instance):
    harness = FeedUnderTest(instance, market.url)
    yield harness
    harness.close()


def ticker_frame(**fields) -> str:
    payload = {"mark_price": 100_000.0, "index": 100_000.0, "mark_timestamp": "$NOW",
               "best_bid_price": 99_999.0, "best_bid_amount": 1.0, "best_ask_price": 100_001.0,
               "best_ask_amount": 1.0}
    payload.update(fields)
    text = orjson.dumps({"channel_name": TICKER, "notification": payload}).decode()
    return text.replace('"$NOW"', "$NOW")


def flags(rec) -> int:
    return int(rec["flags"])


def test_stale_data_is_marked_stale_and_fresh_data_resumes(fut, market):
    fut.until(lambda: fut.md, what="first ticker")
    assert fut.state.get("md_stale") == 0
    market.call("sim/stall_feed", {"seconds": 2.0})
    fut.until(lambda: any(flags(r) & MD_FLAG_STALE for r in fut.md), 5, what="a stale record")
    assert fut.state.get("md_stale") == 1
    stale = [r for r in fut.md if flags(r) & MD_FLAG_STALE]
    assert len(stale) == 1 and not flags(stale[0]) & MD_FLAG_IMPLAUSIBLE
    assert fut.feed.last_md[0]["flags"] & MD_FLAG_STALE == 0     # the kept record is untouched
    n = len(fut.md)
    fut.until(lambda: any(not flags(r) & MD_FLAG_STALE for r in fut.md[n:]), 5, what="fresh data")
    assert fut.state.get("md_stale") == 0


def test_data_that_keeps_lying_goes_stale_as_implausible_and_good_data_resumes(fut, market):
    fut.until(lambda: fut.md, what="first ticker")
    market.call("sim/stall_feed", {"seconds": 2.5})
    market.call("sim/inject_public", {"frames": [ticker_frame(mark_price=1_000_000.0)], "repeat": 20,
                                      "interval_s": 0.1})
    fut.until(lambda: any(flags(r) & MD_FLAG_IMPLAUSIBLE for r in fut.md), 5, what="an implausible stale record")
    bad = [r for r in fut.md if flags(r) & MD_FLAG_IMPLAUSIBLE][0]
    assert flags(bad) & MD_FLAG_STALE and bad["mark_price"] < 200_000.0   # the last good record
    assert all(r["mark_price"] < 200_000.0 for r in fut.md)               # no lie was published
    n = len(fut.md)
    fut.until(lambda: any(not flags(r) & MD_FLAG_STALE for r in fut.md[n:]), 5, what="good data again")
    fut.feed.report(_NoCounters())
    refused = dict(zip(MD_REFUSED_NAMES, fut.state.get("md_refused")))
    assert refused["off_band"] >= 10 and fut.state.get("md_stale") == 0


class _NoCounters:
    def set(self, name, value):
        pass


def test_hostile_public_frames_are_refused_and_the_feed_keeps_running(fut, market):
    fut.until(lambda: len(fut.md) > 5, what="tickers")
    true_mark = float(fut.md[-1]["mark_price"])
    frames = [
        "{not json", '{"channel_name": "ticker.BTC-PERPETUAL.raw", "notification": {"mark_price": NaN}}',
        '{"channel_name": "ticker.NOPE.raw", "notification": {}}', "[1, 2, 3]", '"a string"',
        ticker_frame(mark_price=-5.0), ticker_frame(best_bid_price=100_002.0),          # crossed
        ticker_frame(index=None), ticker_frame(mark_price="1e5"),                       # missing, wrong type
        ticker_frame(mark_timestamp=time.time() + 1e6, mark_price=true_mark + 300),     # far future
        ticker_frame(mark_price=true_mark * 10, index=true_mark),                       # 10x mark
        ticker_frame(mark_timestamp=time.time() - 3, mark_price=true_mark - 200,        # out of order
                     index=true_mark - 200, best_bid_price=true_mark - 201, best_ask_price=true_mark - 199),
        orjson.dumps({"channel_name": TRADES, "notification": [[true_mark * 10, 1.0, "buy", time.time(), BTC]]}).decode(),
        orjson.dumps({"channel_name": TRADES, "notification": [[true_mark, 1.0, "buy", time.time() + 1e6, BTC]]}).decode(),
        '{"channel_name": "recent_trades.BTC-PERPETUAL.single", "notification": {"x": 1}}',
    ]
    for frame in frames:
        market.call("sim/inject_public", {"frames": [frame]})
    market.call("sim/inject_public", {"frames": [ticker_frame(mark_price=true_mark * 10)], "pad_bytes": 3 << 20})
    n = len(fut.md)
    fut.run(1.5)
    assert len(fut.md) > n + 3                                  # real data kept flowing
    assert all(abs(r["mark_price"] / true_mark - 1) < 0.01 for r in fut.md)
    assert all(abs(t["price"] / true_mark - 1) < 0.01 for t in fut.trades)
    rejected = fut.feed.decoder.rejected()
    assert {"bad_json", "unknown_channel", "bad_price", "crossed_book", "missing_field", "bad_type",
            "not_object"} <= set(rejected), rejected
    counts = dict(zip(("ok",) + MD_REFUSED_NAMES, fut.feed.checks.counts))
    assert counts["clock_ahead"] >= 2 and counts["off_band"] >= 3 and counts["out_of_order"] == 1, counts
    assert fut.feed.client is not None and fut.feed.connects == 1     # never dropped the connection


def test_the_trades_snapshot_never_reaches_the_estimators_across_ten_reconnects(fut, market):
    """Each reconnect's recent_trades snapshot replays up to 100 past trades: fed as new arrivals
    they would inflate A by hundreds of trades. The feed's trades must match, within the trades
    lost while reconnecting, what a subscriber that never reconnected saw as new."""
    market.call("sim/options", {"flow_rate": 20.0})
    watcher = market.client()
    try:
        watcher.call("public/subscribe", {"channels": [TRADES, TICKER]})
        watcher.wait_for(lambda m: m["channel_name"] == TRADES and m.get("snapshot"), 5)
        fut.until(lambda: fut.feed.history_skipped > 0 or len(fut.trades) > 0, 10, what="trades")
        start = time.time()
        fut.trades.clear()
        fut.md.clear()
        watcher.notifications.clear()
        for _ in range(10):
            fut.run(0.6)
            before = fut.feed.connects
            assert watcher.result("sim/drop_connections", {"scope": "public"})["dropped"] >= 1
            fut.until(lambda: fut.feed.connects > before, 5, what="a reconnect")
        fut.run(0.6)
        seen = _drain(watcher)
    finally:
        watcher.close()
    ours = [(float(t["price"]), float(t["amount"]), int(t["exchange_ts_ns"])) for t in fut.trades]
    theirs = [(p, a, int(ts * 1e9)) for p, a, _, ts, *_ in seen if ts >= start]
    assert len(ours) == len(set(ours))                           # nothing delivered twice
    assert set(ours) <= set(theirs) | {o for o in ours if o[2] < start * 1e9}
    assert len(theirs) * 0.7 <= len(ours) <= len(theirs), (len(ours), len(theirs))
    a_ours, a_theirs = _fitted_a(fut.trades, fut.md), _fitted_a(_records(seen), fut.md)
    assert a_ours == pytest.approx(a_theirs, rel=0.35), (a_ours, a_theirs)
    assert fut.feed.history_skipped >= 10 * 50                  # ten snapshots, each history


def _drain(client) -> list:
    rows = []
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        try:
            client.wait_for(lambda m: False, 0.1)
        except TimeoutError:
            pass
    for msg in client.notifications:
        if msg["channel_name"] == TRADES and not msg.get("snapshot"):
            rows.extend(msg["notification"])
    return rows


def _records(rows) -> np.ndarray:
    out = np.zeros(len(rows), TRADE_DTYPE)
    for i, (price, amount, direction, ts, *_) in enumerate(rows):
        out[i]["price"], out[i]["amount"] = price, amount
        out[i]["side"] = 1 if direction == "buy" else -1
        out[i]["exchange_ts_ns"] = int(ts * 1e9)
    return out


def _fitted_a(trades, mds) -> float:
    """A (arrivals/s per side) from these trades against the feed's mids, on one clock."""
    est = IntensityEstimator(np.arange(0.0, 40.0, 2.0), 3600.0, 1.0, 1.0, 0.1, min_arrivals=20)
    events = [(int(r["exchange_ts_ns"]), 0, 0.5 * (r["best_bid_price"] + r["best_ask_price"])) for r in mds]
    events += [(int(t["exchange_ts_ns"]), 1, t) for t in trades]
    for ts, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            if math.isfinite(item):
                est.on_mid(float(item), ts * 1e-9)
        else:
            est.on_trade(float(item["price"]), int(item["side"]), ts * 1e-9)
    assert est.refit(), "too few arrivals to fit"
    return est.a
