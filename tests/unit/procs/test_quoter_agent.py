"""The quoter over real rings: market records in -> a QuoteSet on ``quotes`` (for the gateway) and on
``quote_log`` (for the recorder), built around the mid with the inventory risk publishes; stale data
-> a pull; a full ``quotes`` ring -> the newest set kept and retried; our fills feed the markouts."""
import numpy as np
import pytest

from kernels.params import QuoteParams
from procs.quoter import Quoter
from runtime import segments
from shm import records as R

from agent_kit import BTC, MARK, drain, execution, ticker
import dataclasses

PARAMS = QuoteParams()


@pytest.fixture
def quoter(segs, instance):
    q = Quoter(instance, [BTC], dataclasses.replace(PARAMS, max_position=0.1))
    q.on_start()
    yield q
    q.on_close()


@pytest.fixture
def quote_log(segs, instance):
    reader = segments.reader(instance, "quote_log")
    yield reader
    reader.close()


def market(segs, quoter, n=5, mark=MARK, spread=10.0, flags=0):
    """``n`` ticker records around ``mark`` through the quoter; returns the sets it sent to risk."""
    for k in range(n):
        md = ticker(mark=mark, bid=mark - spread / 2, ask=mark + spread / 2)
        md["flags"] = flags
        segs["md"].write(md)
        quoter.do_work()
    return drain(segs["quotes"], R.QUOTE_DTYPE)


def test_market_records_become_a_ladder_around_the_mid_on_quotes_and_on_quote_log(segs, quoter, quote_log):
    sets = market(segs, quoter)
    assert len(sets) >= 1
    q = sets[-1]
    assert q["type"] == R.QUOTE_SET and q["instrument_id"] == 0 and q["n_bids"] >= 1 and q["n_asks"] >= 1
    bids, asks = q["bid_price"][:q["n_bids"]], q["ask_price"][:q["n_asks"]]
    assert bids[0] < MARK < asks[0] and list(bids) == sorted(bids, reverse=True) and list(asks) == sorted(asks)
    assert q["mid"] == pytest.approx(MARK) and q["md_receive_ts_ns"] > 0
    logged = drain(quote_log, R.QUOTE_DTYPE)
    assert [int(r["seq"]) for r in logged] == [int(r["seq"]) for r in sets]


def test_the_inventory_risk_publishes_skews_the_ladder_down_when_long(segs, instance, quote_log):
    flat, long = [], []
    for position, out in ((0.0, flat), (0.08, long)):
        q = Quoter(instance, [BTC], dataclasses.replace(PARAMS, max_position=0.1))
        q.on_start()
        try:
            segs["state"].table["position"][0][0] = position
            out.extend(market(segs, q))
        finally:
            q.on_close()
    assert flat[-1]["inventory"] == 0.0 and long[-1]["inventory"] == pytest.approx(0.08)
    assert long[-1]["reservation_price"] < flat[-1]["reservation_price"]


def test_stale_market_data_pulls_the_quotes_once(segs, quoter):
    market(segs, quoter)
    pulls = market(segs, quoter, n=3, flags=R.MD_FLAG_STALE)
    assert len(pulls) == 1 and pulls[0]["type"] == R.QUOTE_PULL and pulls[0]["reason"] & R.QUOTE_REASON_STALE
    assert quoter.pulls == 1


def test_a_full_quotes_ring_keeps_the_newest_set_and_retries_it(segs, instance):
    quoter = Quoter(instance, [BTC], QuoteParams(fast_cancel=False, max_position=0.1))
    quoter.on_start()
    capacity = segs["quotes"].capacity
    for k in range(capacity + 40):            # a steady trend, and nobody drains ``quotes``
        segs["md"].write(ticker(mark=MARK + 2.0 * k))
        quoter.do_work()
    assert quoter.ring_full >= 1 and 0 in quoter.pending
    newest = quoter.pending[0].copy()
    first = drain(segs["quotes"], R.QUOTE_DTYPE)
    assert len(first) == capacity
    quoter.do_work()
    (retried,) = drain(segs["quotes"], R.QUOTE_DTYPE)
    assert retried["seq"] == newest["seq"][0] and not quoter.pending
    quoter.on_close()


def test_our_fills_on_exec_reach_the_markouts_published_in_the_shared_state(segs, quoter):
    market(segs, quoter)
    fill = execution(R.EXEC_FILL, side=1, price=MARK - 5.0, amount=0.01, trade_id=1)
    fill["exchange_ts_ns"] = int(ticker()["exchange_ts_ns"][0])
    segs["exec"].write(fill)
    quoter.do_work()
    for k in range(30):                        # the market moves up after our buy: a good markout
        segs["md"].write(ticker(mark=MARK + 20.0, exchange_ts_ns=int(fill["exchange_ts_ns"][0]) + (k + 1) * 100_000_000))
        quoter.do_work()
    quoter.next_status_ns = 0
    quoter.do_work()                           # nothing new: it publishes its status
    markout = segs["state"].snapshot()["markout"][0]
    assert markout[0][0] > 0                   # our buys, 1 s horizon, USD per contract
    assert np.isnan(markout[1][0])             # no sells marked out


def test_a_record_for_an_instrument_we_do_not_trade_is_ignored(segs, quoter):
    segs["md"].write(ticker(iid=3))
    assert quoter.do_work() == 1
    assert len(drain(segs["quotes"], R.QUOTE_DTYPE)) == 0


def test_a_low_order_budget_widens_the_requote_tolerance_and_a_full_one_does_not(segs, instance):
    """A mid creeping 2 ticks a record: each move is a new ladder at a 1-tick tolerance; with the
    gateway's budget below budget_low_fraction of its bucket the 4x tolerance lets most of them pass unsent."""
    from shm.order_budget import BudgetWriter
    from venue.ratelimit import ThalexLimits
    import time

    def ladders_sent(tokens_left: bool) -> int:
        now = time.monotonic_ns()
        lim = ThalexLimits(now - 1_000_000_000, orders_per_s=10.0, orders_per_s_non_persistent=50.0, cancels_per_s=1000.0,
                           cooldown_base_s=0.5, cooldown_cap_s=4.0)
        lim.set_cancel_on_disconnect(now - 1_000_000_000)    # 50/s: a bucket of 10, full a second later
        if not tokens_left:
            lim.on_throttled(now)               # a cooldown: nothing may be sent for 0.5 s
        BudgetWriter(segs["state"]).publish(lim, now)
        q = Quoter(instance, [BTC], dataclasses.replace(PARAMS, max_position=0.1, fast_cancel=False,
                                                         requote_tolerance_ticks=1.0, budget_low_fraction=0.5,
                                                         budget_tolerance_factor=4.0))
        q.on_start()
        try:
            drain(segs["quotes"], R.QUOTE_DTYPE)
            sent = 0
            for k in range(20):
                sent += len(market(segs, q, n=1, mark=MARK + 2.0 * BTC.tick_size * k))
            # the budget is read after each pass's ladders, for the next: the first record is
            # quoted before the quoter has looked
            assert q.budget_low_ladders == (0 if tokens_left else 19)
            return sent
        finally:
            q.on_close()

    full, low = ladders_sent(True), ladders_sent(False)
    assert full >= 15 and low <= full // 2, (full, low)
