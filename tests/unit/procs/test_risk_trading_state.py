"""The risk trading state: ACTIVE / REDUCING / HALTED by P&L limits and the position band, with
hysteresis, published in a real shared state; HALTED pulls everything and only a resume leaves it."""
import pytest

from procs.risk.trading_state import REASON_CODES, TradingState
from shm import records as R
from shm.state import ACTIVE, HALTED, REDUCING, SharedState

from agent_kit import risk_conf

DAY = "2026-11-05"


@pytest.fixture
def shared(instance):
    state = SharedState.create(instance)
    yield state
    state.close()


@pytest.fixture
def pulls():
    return []


def machine(shared, pulls, **limits):
    base = dict(stop_loss=100.0, take_profit=0.0, max_drawdown=0.0, max_daily_loss=0.0,
                reduce_at_fraction=0.8, max_position=1.0)
    return TradingState(risk_conf(**{**base, **limits}), shared, pulls.append)


def test_a_losing_equity_goes_active_then_reducing_then_halted_and_the_halt_pulls_everything(shared, pulls):
    t = machine(shared, pulls)
    t.evaluate(-79.0, [0.0], DAY)
    assert (t.state, t.reason, pulls) == (ACTIVE, "", [])
    t.evaluate(-80.0, [0.0], DAY)
    assert (t.state, t.reason) == (REDUCING, "stop loss") and t.reducing
    t.evaluate(-100.0, [0.0], DAY)
    assert (t.state, t.reason) == (HALTED, "stop loss") and t.halted
    assert pulls == [R.RISK_HALTED]
    snap = shared.snapshot()
    assert (snap["trading_state"], snap["reason"], snap["reason_text"]) == (HALTED, REASON_CODES["stop loss"],
                                                                             "stop loss")
    assert snap["state_changed_ns"] > 0


def test_reducing_clears_only_after_ten_percent_of_headroom_came_back(shared, pulls):
    t = machine(shared, pulls)
    t.evaluate(-85.0, [0.0], DAY)
    assert t.state == REDUCING
    t.evaluate(-75.0, [0.0], DAY)          # below the 80 % band, above 0.9 x 80 % = 72 %
    assert (t.state, t.reason) == (REDUCING, "stop loss")
    t.evaluate(-71.0, [0.0], DAY)
    assert (t.state, t.reason) == (ACTIVE, "")
    assert shared.get("trading_state") == ACTIVE and shared.snapshot()["reason_text"] == ""


def test_halted_stays_halted_whatever_the_pnl_until_an_explicit_resume(shared, pulls):
    t = machine(shared, pulls)
    t.evaluate(-150.0, [0.0], DAY)
    assert t.state == HALTED
    t.evaluate(50.0, [0.0], DAY)
    assert (t.state, t.reason) == (HALTED, "stop loss")
    t.set(ACTIVE, "")
    assert shared.get("trading_state") == ACTIVE
    t.evaluate(50.0, [0.0], DAY)
    assert t.state == ACTIVE and pulls == [R.RISK_HALTED]


def test_take_profit_never_reduces_and_halts_at_its_limit(shared, pulls):
    t = machine(shared, pulls, stop_loss=0.0, take_profit=10.0)
    t.evaluate(9.9, [0.0], DAY)
    assert t.state == ACTIVE
    t.evaluate(10.0, [0.0], DAY)
    assert (t.state, t.reason) == (HALTED, "take profit")


def test_a_drawdown_counts_from_the_high_water_mark(shared, pulls):
    t = machine(shared, pulls, stop_loss=0.0, max_drawdown=20.0)
    t.evaluate(50.0, [0.0], DAY)
    t.evaluate(35.0, [0.0], DAY)           # 15 from the top: below 80 % of 20
    assert t.state == ACTIVE and t.high_water == 50.0
    t.evaluate(34.0, [0.0], DAY)
    assert (t.state, t.reason) == (REDUCING, "drawdown")
    t.evaluate(30.0, [0.0], DAY)
    assert (t.state, t.reason) == (HALTED, "drawdown")


def test_the_daily_loss_counts_from_the_days_opening_equity_and_a_new_day_resets_it(shared, pulls):
    t = machine(shared, pulls, stop_loss=0.0, max_daily_loss=10.0)
    assert t.evaluate(100.0, [0.0], DAY) is True              # first look: the day opens at 100
    assert t.evaluate(92.0, [0.0], DAY) is False
    assert (t.state, t.reason) == (REDUCING, "daily loss")
    assert t.evaluate(92.0, [0.0], "2026-11-06") is True       # a new day opens at 92
    assert t.state == ACTIVE and t.day_start_equity == 92.0


def test_a_position_near_max_position_reduces_with_the_same_hysteresis(shared, pulls):
    t = machine(shared, pulls, stop_loss=0.0)
    t.evaluate(0.0, [0.0, -0.8], DAY)
    assert (t.state, t.reason) == (REDUCING, "near max_position")
    t.evaluate(0.0, [0.0, -0.75], DAY)
    assert t.state == REDUCING
    t.evaluate(0.0, [0.0, 0.7], DAY)
    assert t.state == ACTIVE


def test_a_pnl_limit_outranks_the_position_band_as_the_reason(shared, pulls):
    t = machine(shared, pulls)
    t.evaluate(-85.0, [0.9], DAY)
    assert t.reason == "stop loss"


def test_setting_the_same_state_and_reason_again_publishes_nothing(shared, pulls):
    t = machine(shared, pulls)
    t.set(HALTED, "operator halt")
    stamp = shared.get("state_changed_ns")
    shared.set("state_changed_ns", 0)
    t.set(HALTED, "operator halt")
    assert shared.get("state_changed_ns") == 0 and stamp > 0 and pulls == [R.RISK_HALTED]


def test_an_unknown_reason_is_published_with_code_99(shared, pulls):
    t = machine(shared, pulls)
    t.set(REDUCING, "something new")
    assert shared.get("reason") == 99 and shared.snapshot()["reason_text"] == "something new"


def test_paused_is_the_operators_flag_in_the_shared_state(shared, pulls):
    t = machine(shared, pulls)
    assert not t.paused
    shared.set("paused", 1)
    assert t.paused and t.state == ACTIVE


def test_a_restored_state_is_taken_as_it_is_without_publishing_or_pulling(shared, pulls):
    t = machine(shared, pulls)
    t.restore(HALTED, "kill")
    assert t.halted and t.reason == "kill" and pulls == [] and shared.get("trading_state") == ACTIVE
