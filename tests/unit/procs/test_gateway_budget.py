"""The gateway spends the exchange's message budget (issue 19): its order bucket is published for
the quoter every pass, a pull or a fast cancel goes before any ladder and never waits for an order
token (it takes the exposed orders down with cancels, from the cancel bucket), and a ladder that
waited for a token is counted in the ``token_wait`` histogram."""
import time

import pytest

from shm import records as R
from shm.order_budget import BudgetReader

from agent_kit import ladder, wait_until
from test_gateway_agent import ASKS, BIDS, resting, start_gateway

pytestmark = pytest.mark.timeout(60)
COOLDOWN = dict(throttle_cooldown_s=30.0, throttle_cooldown_max_s=60.0)   # longer than any test


@pytest.fixture
def gw(segs, instance, sim, account):
    g = start_gateway(instance, sim, account, segs, mass_quote=True, **COOLDOWN)
    yield g
    g.on_close()


def until(gw, predicate, what):
    return wait_until(predicate, 10.0, gw.do_work, what)


def test_the_order_bucket_is_published_when_spent_and_a_cooldown_at_once(segs, gw):
    reader = BudgetReader(segs["state"])
    until(gw, lambda: reader.fraction(time.monotonic_ns()) is not None, "a budget published")
    assert 0.0 <= reader.tokens(time.monotonic_ns()) <= gw.limits.orders.burst
    gw.limits.on_throttled(time.monotonic_ns())
    gw.do_work()
    assert reader.tokens(time.monotonic_ns()) == 0.0          # a cooldown: nothing to spend


def test_a_pull_with_no_order_token_left_goes_as_cancels_at_once(segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    until(gw, lambda: len(gw.open_orders.live) == 4, "its orders known")
    gw.limits.on_throttled(time.monotonic_ns())               # no order may go for 30 s
    segs["quotes"].write(ladder(kind=R.QUOTE_PULL))
    until(gw, lambda: resting(exchange_state, account) == [], "pulled by cancels")
    assert gw.limits.in_cooldown(time.monotonic_ns()) and gw.quoting.pulls_by_cancel == 1
    assert gw.quoting.pulled[0] and not gw.quoting.desired


def test_a_fast_cancel_takes_its_side_down_with_cancels_and_the_ladder_waits_for_a_token(
        segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gw, lambda: len(gw.open_orders.live) == 4, "the ladder resting, its orders known")
    gw.limits.on_throttled(time.monotonic_ns())
    fast = ladder(bids=[99_900.0])                            # the asks pulled, the bids widened
    fast["flags"] = R.QUOTE_FLAG_FAST_CANCEL
    segs["quotes"].write(fast)
    until(gw, lambda: [o[0] for o in resting(exchange_state, account)] == ["buy", "buy"], "the asks cancelled")
    assert 0 in gw.quoting.desired and 0 in gw.quoting.waiting_since     # the new bids wait
    assert gw.token_wait.counts == [0] * len(gw.token_wait.counts)
    gw.limits._cooldown_until_ns = 0                          # the cooldown ends
    until(gw, lambda: resting(exchange_state, account) == [("buy", 99_900.0, 0.01)], "the new bids")
    assert sum(gw.token_wait.counts) == 1 and not gw.quoting.waiting_since


def test_pulls_and_fast_cancels_are_urgent_and_ladders_are_not():
    from procs.gateway.quoting import urgent
    set_, pull, fast = ladder(bids=BIDS), ladder(kind=R.QUOTE_PULL), ladder(bids=BIDS)
    fast["flags"] = R.QUOTE_FLAG_FAST_CANCEL
    assert [urgent(q) for q in (set_, pull, fast)] == [False, True, True]
