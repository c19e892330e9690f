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


def test_markouts_take_the_mid_at_each_horizon_and_leave_out_fills_too_near_the_end():
    from types import SimpleNamespace
    md = {"t": np.array([0.0, 1.0, 5.0, 10.0]), "instrument_id": np.zeros(4),
          "bid": np.array([99.0, 100.0, 104.0, 90.0]), "ask": np.array([101.0, 102.0, 106.0, 92.0])}
    fills = {"t": np.array([0.0, 0.0, 6.0]), "instrument_id": np.zeros(3), "side": np.array([1.0, -1.0, 1.0]),
             "price": np.array([99.0, 101.0, 100.0])}
    got = summary.markouts(SimpleNamespace(md=md, fills=fills))
    # 1 s: mids 101 (buy at 99: +2; sell at 101: 0) and, for the fill at 6 s, 105 - 100 = +5
    assert got["markout_1s_usd"] == pytest.approx((2.0 + 0.0 + 5.0) / 3)
    assert got["markout_5s_usd"] == pytest.approx((6.0 - 4.0) / 2)         # the third is too late
    assert "markout_30s_usd" not in got


def test_md_to_send_and_token_waits_come_from_the_gateways_histograms():
    from types import SimpleNamespace
    from shm.histogram import N_BUCKETS
    sent = [0] * N_BUCKETS
    sent[3], sent[4] = 90, 10                       # 90 in (50, 100] us, 10 in (100, 250] us
    waits = [0] * N_BUCKETS
    waits[10] = 4                                   # 4 waits in (10, 25] ms
    row = {"t": np.array([1.0]), "ladders_sent": np.array([100.0]),
           "md_to_send_hist": np.array(["|".join(map(str, sent))], dtype=object), "md_to_send_sum_ns": np.array([0.0]),
           "token_wait_hist": np.array(["|".join(map(str, waits))], dtype=object),
           "token_wait_sum_ns": np.array([6e7]), "throttled": np.array([0.0]), "pulls_by_cancel": np.array([2.0]),
           "budget_low_ladders": np.array([7.0])}
    got = summary.sending(SimpleNamespace(sending=row))
    assert got["md_to_send_p50_us"] == pytest.approx(50 + 50 * 50 / 90)        # inside its bucket
    assert got["md_to_send_p99_us"] == pytest.approx(100 + 150 * 9 / 10)
    assert (got["token_waits"], got["token_wait_share"], got["token_wait_total_s"]) == (4, 0.04, pytest.approx(0.06))
    assert got["token_wait_p99_ms"] == pytest.approx(10 + 15 * 3.96 / 4)
    assert (got["pulls_by_cancel"], got["budget_low_ladders"]) == (2, 7)
