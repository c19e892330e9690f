"""The gateway's order budget in the shared state: what the quoter reads is the bucket refilled to
its own clock, capped at the burst, nothing in a throttle cooldown, and unknown until published."""
import pytest

from shm.order_budget import BudgetReader, BudgetWriter
from shm.state import SharedState
from venue.ratelimit import ThalexLimits

S = 1_000_000_000


@pytest.fixture
def state(instance):
    s = SharedState.create(instance)
    yield s
    s.close()
    s.segment.unlink()


def limits(now):
    return ThalexLimits(now, orders_per_s=10.0, orders_per_s_non_persistent=50.0, cancels_per_s=1000.0,
                        cooldown_base_s=0.5, cooldown_cap_s=4.0)


def test_the_reader_extrapolates_the_bucket_to_its_own_clock_and_caps_it_at_the_burst(state):
    now = 10 * S
    lim = limits(now)
    lim.set_cancel_on_disconnect(now)          # 50/s: 40 tokens/s and a burst of 10
    reader, writer = BudgetReader(state), BudgetWriter(state)
    assert reader.tokens(now) is None          # nothing published: no budget known
    while lim.try_order(now):
        pass
    writer.publish(lim, now)
    assert reader.tokens(now) == pytest.approx(0.0, abs=1e-9)
    assert reader.tokens(now + S // 10) == pytest.approx(4.0)         # 40/s x 0.1 s
    assert reader.tokens(now + 10 * S) == pytest.approx(10.0)         # never beyond the burst
    assert reader.fraction(now + S // 10) == pytest.approx(0.4)


def test_a_throttle_cooldown_leaves_no_budget_until_it_ends(state):
    now = 10 * S
    lim = limits(now)
    cooldown = lim.on_throttled(now)
    BudgetWriter(state).publish(lim, now)
    reader = BudgetReader(state)
    assert reader.tokens(now + cooldown - 1) == 0.0
    assert reader.tokens(now + cooldown) > 0.0
