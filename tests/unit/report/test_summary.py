"""Summary figures: known answers on hand-made columns."""
import numpy as np
import pytest

from report import summary


def test_max_drawdown_is_the_largest_fall_from_the_running_peak():
    assert summary.max_drawdown(np.array([1.0, 3.0, 2.0, 5.0, 1.5, 4.0])) == pytest.approx(3.5)
    assert summary.max_drawdown(np.array([-2.0, -1.0])) == pytest.approx(2.0)   # from the start at 0
    assert summary.max_drawdown(np.array([])) == 0.0


def test_time_in_each_state_counts_until_the_next_sample():
    pnl = {"t": np.array([0.0, 1.0, 3.0, 4.0]),
           "state": np.array(["ACTIVE", "REDUCING", "ACTIVE", "HALTED"], dtype=object)}
    assert summary.time_in_states(pnl) == {"ACTIVE": 2.0, "REDUCING": 2.0}


def test_hourly_sharpe_of_a_steady_gain_with_noise():
    t = np.arange(0, 3600 * 2, 1.0)
    rng = np.random.default_rng(1)
    steps = 0.01 + rng.normal(0, 0.05, len(t))
    equity = np.cumsum(steps)
    # per-minute P&L: mean 0.6, std 0.05 * sqrt(60) -> hourly ratio sqrt(60) times that
    expected = 0.6 / (0.05 * np.sqrt(60)) * np.sqrt(60)
    assert summary.hourly_sharpe(t, equity) == pytest.approx(expected, rel=0.25)
    assert summary.hourly_sharpe(t[:2], equity[:2]) == 0.0
