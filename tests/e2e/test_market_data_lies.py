"""Market data that lies, end to end: the local exchange sends hostile public frames (through its
loopback test hook sim/inject_public) into a running ``bin/mm run``. No process dies, nothing
rests on the exchange priced from a lie, the status names why it is not quoting while it is not,
and quoting resumes by itself when the data is good again.
"""
import time
from pathlib import Path

import orjson
import pytest

from testkit.pipeline import Pipeline

pytestmark = pytest.mark.timeout(240)
BTC = "BTC-PERPETUAL"
TICKER = f"ticker.{BTC}.raw"
TRADES = f"recent_trades.{BTC}.single"


@pytest.fixture(scope="module")
def mm(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("lies"))
    yield pipeline
    assert pipeline.stop() == 0, pipeline.output()
    assert pipeline.leftovers() == []


def ticker(mark, timestamp="$NOW", index=None, spread=1.0):
    """A Ticker frame; "$NOW" is replaced by the exchange's clock when it sends the frame."""
    payload = {"mark_price": mark, "index": mark if index is None else index, "mark_timestamp": "§",
               "best_bid_price": mark - spread, "best_bid_amount": 0.5, "best_ask_price": mark + spread,
               "best_ask_amount": 0.5, "last_price": mark}
    text = orjson.dumps({"channel_name": TICKER, "notification": payload}).decode()
    return text.replace('"§"', timestamp if timestamp == "$NOW" else repr(timestamp))


def true_mid(mm) -> float:
    t = mm.sim("public/ticker", instrument_name=BTC)
    return 0.5 * (t["best_bid_price"] + t["best_ask_price"])


def worst_distance(mm) -> float:
    """USD from the exchange's own mid to the farthest of our resting quotes (take-profit aside)."""
    mid = true_mid(mm)
    orders = [o for o in mm.exchange_state()["open_orders"] if o.get("label") != "tp"]
    return max((abs(o["price"] - mid) for o in orders), default=0.0)


def nobody_restarted(status) -> bool:
    return all(p["alive"] and p["restarts"] == 0 for p in status["processes"])


def quoting_again(s) -> bool:
    return s["quoting"] and not s["not_quoting"] and not s["md_stale"]


def test_stale_and_out_of_order_tickers_price_nothing_outside_the_band(mm):
    """Tickers a little stale or from the future, 120-300 USD from the market: inside any risk
    band, so only the feed's checks keep them from becoming ladders."""
    mm.wait(quoting_again, 30, "quoting")
    quiet = 0.0
    for _ in range(20):                                  # what our ladder spans on honest data
        quiet = max(quiet, worst_distance(mm))
        time.sleep(0.1)
    band = max(2.0 * quiet, 40.0)
    mid, now = true_mid(mm), time.time()
    lies = [ticker(mid - 200.0, timestamp=now - 3.0), ticker(mid + 200.0, timestamp=now - 2.0),
            ticker(mid + 120.0, timestamp=now - 1.5), ticker(mid + 300.0, timestamp=now + 1e6)]
    mm.sim("sim/inject_public", frames=lies, repeat=30, interval_s=0.1)
    worst = 0.0
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        worst = max(worst, worst_distance(mm))
        time.sleep(0.05)
    assert worst <= band, f"an order rested {worst:.1f} USD from the true mid (band {band:.1f})"
    status = mm.ctl("status")
    assert status["md_refused"]["out_of_order"] >= 90 and status["md_refused"]["clock_ahead"] >= 30
    assert nobody_restarted(status), status["processes"]
    mm.wait(quoting_again, 15, "quoting on honest data")


def test_absurd_and_malformed_frames_kill_nothing_and_halt_nothing(mm):
    mm.wait(quoting_again, 30, "quoting")
    mid, now = true_mid(mm), time.time()
    lies = [
        "{not json", '{"channel_name": "%s", "notification": {"mark_price": NaN}}' % TICKER,
        '{"channel_name": "ticker.NOPE.raw", "notification": {}}', "[1, 2]", "null",
        '{"channel_name": "%s", "notification": {"mark_price": -1, "index": 1, "mark_timestamp": 1}}' % TICKER,
        '{"channel_name": "%s", "notification": {"index": 100000}}' % TICKER,           # missing fields
        ticker(mid, spread=-2.0),                                                         # crossed book
        ticker(10 * mid, index=mid), ticker(10 * mid), ticker(mid / 10),                  # 10x marks
        orjson.dumps({"channel_name": TRADES, "notification": [[10 * mid, 5.0, "buy", now, BTC]]}).decode(),
        orjson.dumps({"channel_name": TRADES, "notification": [[mid, 5.0, "sell", now + 1e6, BTC]]}).decode(),
    ]
    mm.sim("sim/inject_public", frames=lies, repeat=20, interval_s=0.1)
    mm.sim("sim/inject_public", frames=[ticker(10 * mid)], pad_bytes=4 << 20)    # an oversized frame
    time.sleep(2.5)
    status = mm.wait(quoting_again, 15, "quoting on honest data")
    assert status["trading_state"] != "HALTED", status["reason"]      # a 10x mark is no drawdown
    assert nobody_restarted(status), status["processes"]
    assert status["md_refused"]["off_band"] >= 60, status["md_refused"]
    assert 0.5 < status["marks"][BTC] / mid < 1.5
    feed_log = (Path(status["run_dir"]) / "logs" / "feed.log").read_text()
    assert "market data refused (off_band" in feed_log and "Traceback" not in feed_log


def test_stale_data_is_named_in_the_status_and_quoting_resumes(mm):
    mm.wait(quoting_again, 30, "quoting")
    mm.sim("sim/stall_feed", seconds=5.0)
    status = mm.wait(lambda s: s["not_quoting"].get(BTC) == "stale data" and not s["quoting"], 10,
                     "not quoting: stale data")
    assert status["md_stale"]
    assert [o for o in mm.exchange_state()["open_orders"] if o.get("label") != "tp"] == []
    status = mm.wait(quoting_again, 20, "quoting again after the stall")
    assert nobody_restarted(status), status["processes"]


def test_data_that_keeps_lying_is_named_as_implausible_and_quoting_resumes(mm):
    mm.wait(quoting_again, 30, "quoting")
    mid = true_mid(mm)
    mm.sim("sim/stall_feed", seconds=5.0)                 # only lies arrive for a while
    mm.sim("sim/inject_public", frames=[ticker(10 * mid)], repeat=45, interval_s=0.1)
    status = mm.wait(lambda s: s["not_quoting"].get(BTC) == "implausible price" and not s["quoting"], 10,
                     "not quoting: implausible price")
    assert status["md_stale"] and status["md_refused"]["off_band"] > 0
    assert [o for o in mm.exchange_state()["open_orders"] if o.get("label") != "tp"] == []
    status = mm.wait(quoting_again, 20, "quoting again once the data is good")
    assert nobody_restarted(status), status["processes"]


def test_after_a_ticker_from_the_far_future_a_jump_still_pulls_the_exposed_side(mm):
    mm.wait(lambda s: quoting_again(s) and s["guard"][BTC] == "calm", 30, "quoting, calm")
    before = mm.ctl("status")["fast_cancels"]
    mm.sim("sim/inject_public", frames=[ticker(true_mid(mm), timestamp=time.time() + 1e6)], repeat=5,
           interval_s=0.1)
    time.sleep(1.0)
    mm.sim("sim/trend", usd_per_s=1200.0, seconds=0.25)   # +300 USD in two or three steps
    mm.wait(lambda s: s["fast_cancels"] > before, 10, "a fast cancel")
    status = mm.wait(lambda s: quoting_again(s) and s["guard"][BTC] == "calm", 20, "calm and quoting again")
    assert nobody_restarted(status), status["processes"]
