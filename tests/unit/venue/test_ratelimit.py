"""Token buckets keep us inside Thalex's limits in any one-second window; code 4 starts a cooldown."""
import pytest

from venue.ratelimit import (CANCEL_LIMIT, ME_LIMIT_NON_PERSISTENT, ME_LIMIT_PERSISTENT, NS_PER_S,
                             ThalexLimits, TokenBucket)

MS = 1_000_000


def at_thalex_maxima(**kw) -> ThalexLimits:
    """Limits paced at exactly the Thalex maxima (the configuration's upper bounds)."""
    return ThalexLimits(**{"orders_per_s": ME_LIMIT_PERSISTENT, "orders_per_s_non_persistent": ME_LIMIT_NON_PERSISTENT,
                           "cancels_per_s": CANCEL_LIMIT, "cooldown_base_s": 0.25, "cooldown_cap_s": 8.0, **kw})


def sends_in(bucket_take, start_ns, duration_ns, step_ns):
    """Timestamps of messages a greedy sender gets through, trying every ``step_ns``."""
    sent = []
    t = start_ns
    while t < start_ns + duration_ns:
        if bucket_take(t):
            sent.append(t)
        else:
            t += step_ns
    return sent


def max_in_window(times, window_ns=NS_PER_S):
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window_ns:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_a_full_bucket_allows_its_burst_then_refuses():
    b = TokenBucket(10, 3)
    assert [b.try_take(0) for _ in range(4)] == [True, True, True, False]


def test_the_bucket_refills_at_its_rate():
    b = TokenBucket(10, 1)
    assert b.try_take(0)
    assert not b.try_take(99 * MS)
    assert b.try_take(100 * MS)


def test_wait_ns_says_when_the_next_token_is_there():
    b = TokenBucket(4, 1)
    assert b.wait_ns(0) == 0
    b.try_take(0)
    wait = b.wait_ns(0)
    assert 249 * MS < wait <= 250 * MS + 1
    assert not b.try_take(wait - 2 * MS) and b.try_take(wait)


def test_tokens_never_exceed_the_burst_after_a_long_idle():
    b = TokenBucket(10, 2)
    b.try_take(0)
    b.try_take(3600 * NS_PER_S)
    assert b.tokens == pytest.approx(1.0)


def test_a_clock_that_steps_back_earns_no_tokens():
    b = TokenBucket(10, 1)
    assert b.try_take(NS_PER_S)
    assert not b.try_take(0)
    assert not b.try_take(NS_PER_S)


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 1), (10, 0.5)])
def test_a_bucket_with_no_rate_or_a_burst_below_one_is_refused(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_persistent_orders_never_exceed_10_in_any_second_and_sustain_near_it():
    limits = at_thalex_maxima()
    sent = sends_in(limits.try_order, 0, 10 * NS_PER_S, MS)
    assert max_in_window(sent) <= 10
    assert len(sent) >= 80  # 8/s sustained + the burst


def test_after_cancel_on_disconnect_orders_go_up_to_50_per_second():
    limits = at_thalex_maxima()
    limits.set_cancel_on_disconnect(0)
    sent = sends_in(limits.try_order, 0, 5 * NS_PER_S, MS // 10)
    assert max_in_window(sent) <= 50
    assert len(sent) >= 200
    assert limits.non_persistent


def test_the_session_can_switch_back_to_the_persistent_rate():
    limits = at_thalex_maxima()
    limits.set_cancel_on_disconnect(0)
    limits.set_persistent(0)
    assert max_in_window(sends_in(limits.try_order, 0, 3 * NS_PER_S, MS)) <= 10


def test_cancels_go_up_to_1000_per_second_independently_of_orders():
    limits = at_thalex_maxima()
    sent = sends_in(limits.try_cancel, 0, 2 * NS_PER_S, 100_000)
    assert max_in_window(sent) <= 1000 and len(sent) >= 1500
    assert limits.try_order(2 * NS_PER_S)  # the order bucket was not touched


def test_code_4_starts_an_exponential_cooldown_capped_and_reset_by_an_accepted_order():
    limits = at_thalex_maxima(cooldown_cap_s=1.0)
    assert limits.on_throttled(0) == 250 * MS
    assert not limits.try_order(249 * MS)
    assert limits.order_wait_ns(0) == 250 * MS
    assert limits.try_order(250 * MS)
    assert limits.on_throttled(NS_PER_S) == 500 * MS
    assert limits.on_throttled(NS_PER_S) == 1000 * MS
    assert limits.on_throttled(NS_PER_S) == 1000 * MS  # capped
    assert limits.throttled_count == 4
    limits.on_accepted()
    assert limits.on_throttled(10 * NS_PER_S) == 250 * MS


def test_cancels_still_go_during_a_throttle_cooldown():
    limits = at_thalex_maxima()
    limits.on_throttled(0)
    assert limits.in_cooldown(1)
    assert not limits.try_order(1) and limits.try_cancel(1)


def test_a_very_long_throttle_streak_stays_at_the_cap():
    limits = at_thalex_maxima()
    for _ in range(200):
        cooldown = limits.on_throttled(0)
    assert cooldown == 8 * NS_PER_S


@pytest.mark.parametrize("key, value", [("orders_per_s", 11), ("orders_per_s_non_persistent", 51),
                                        ("cancels_per_s", 1001), ("orders_per_s", 1)])
def test_a_rate_beyond_the_thalex_maximum_is_refused_by_name(key, value):
    with pytest.raises(ValueError, match=f"{key}={value}: expected more than 1 and at most"):
        at_thalex_maxima(**{key: value})


def test_configured_rates_below_the_maxima_pace_at_the_configured_rate():
    limits = at_thalex_maxima(orders_per_s=4, orders_per_s_non_persistent=20, cancels_per_s=100)
    sent = sends_in(limits.try_order, 0, 10 * NS_PER_S, MS)
    assert max_in_window(sent) <= 4 and len(sent) >= 30
    limits.set_cancel_on_disconnect(10 * NS_PER_S, message_rate=50)   # the exchange allows more: ours holds
    sent = sends_in(limits.try_order, 10 * NS_PER_S, 5 * NS_PER_S, MS)
    assert max_in_window(sent) <= 20 and len(sent) >= 80
    sent = sends_in(limits.try_cancel, 0, 2 * NS_PER_S, MS // 10)
    assert max_in_window(sent) <= 100 and len(sent) >= 150


def test_the_exchange_reporting_a_lower_message_rate_caps_ours():
    limits = at_thalex_maxima()
    limits.set_cancel_on_disconnect(0, message_rate=20)
    assert max_in_window(sends_in(limits.try_order, 0, 3 * NS_PER_S, MS)) <= 20


@pytest.mark.parametrize("reported", [None, "20", True, float("nan"), 0.5, 1000])
def test_a_missing_or_odd_message_rate_from_the_exchange_leaves_ours(reported):
    limits, reference = at_thalex_maxima(orders_per_s_non_persistent=30), at_thalex_maxima(orders_per_s_non_persistent=30)
    limits.set_cancel_on_disconnect(0, message_rate=reported)
    reference.set_cancel_on_disconnect(0, message_rate=30)
    assert sends_in(limits.try_order, 0, 3 * NS_PER_S, MS) == sends_in(reference.try_order, 0, 3 * NS_PER_S, MS)
