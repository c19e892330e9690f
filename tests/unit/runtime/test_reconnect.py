"""One reconnect policy: min, doubling, capped at max, reset by a success; the feed and the gateway use it."""
import time

import pytest

import conf
from procs.feed import Feed
from procs.gateway.agent import Gateway
from runtime import settings as S
from runtime.reconnect import ReconnectPolicy

LISTING = [{"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
            "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"}]


def test_waits_double_from_min_up_to_max_and_a_success_starts_over():
    policy = ReconnectPolicy(0.2, 1.0)
    assert [policy.next_delay_s() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert policy.attempts == 5
    policy.reset()
    assert policy.attempts == 0 and policy.next_delay_s() == 0.2


def test_the_schedule_is_deterministic():
    a, b = ReconnectPolicy(0.05, 3.0), ReconnectPolicy(0.05, 3.0)
    assert [a.next_delay_s() for _ in range(10)] == [b.next_delay_s() for _ in range(10)]


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_a_bad_policy_is_refused_naming_both_numbers(lo, hi):
    with pytest.raises(ValueError, match=f"reconnect_min_s={lo}, reconnect_max_s={hi}"):
        ReconnectPolicy(lo, hi)


def test_the_feed_and_the_gateway_each_take_their_policy_from_venue():
    config = conf.load(None, ["venue.reconnect_min_s=0.5", "venue.reconnect_max_s=3"])
    settings = S.build(config, instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))
    feed, gateway = Feed.from_settings(settings), Gateway.from_settings(settings)
    assert feed.reconnect is not gateway.reconnect        # one policy, each connection its own schedule
    for agent in (feed, gateway):
        assert [agent.reconnect.next_delay_s() for _ in range(4)] == [0.5, 1.0, 2.0, 3.0]


def test_a_failed_reconnect_waits_longer_and_a_success_resets_the_schedule():
    config = conf.load(None, ["venue.reconnect_min_s=0.5", "venue.reconnect_max_s=3", "venue.request_timeout_s=1"])
    settings = S.build(config, instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))
    feed = Feed.from_settings(settings)
    before = time.monotonic()
    feed._lost("test")                                    # nothing listens on port 1
    assert before + 0.5 <= feed.next_connect_s <= time.monotonic() + 0.5
    before = time.monotonic()
    feed._try_reconnect()
    assert feed.client is None and before + 1.0 <= feed.next_connect_s <= time.monotonic() + 1.0
    feed.reconnect.reset()                                # what a successful _connect does
    assert feed.reconnect.next_delay_s() == 0.5
