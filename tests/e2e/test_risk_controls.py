"""Risk controls end to end against the local exchange: P&L limits move the trading state,
our P&L equals the exchange's, the kill switch works without the quoter and risk processes."""
import os
import signal
import time

import pytest

from testkit.chaos import exchange_books
from testkit.pipeline import Pipeline, protection

pytestmark = pytest.mark.timeout(150)
BTC = "BTC-PERPETUAL"
# The quote controls (fast cancel, markout widening, fading) and the portfolio's USD limits
# (conf/paper.toml: 8000 USD of net delta, ~0.08 BTC) exist to avoid exactly the losses these tests
# need; they are switched off so the P&L limits themselves are what is tested.
UNGUARDED = ("--set", "quoter.fast_cancel=false", "--set", "quoter.markout_widen=false",
             "--set", "quoter.fade_start=1.0", "--set", "risk.max_net_delta_usd=0",
             "--set", "risk.max_gross_notional_usd=0")


def states_until(mm, predicate, timeout_s):
    """Poll status; the (trading_state, reason) pairs seen, in order, until ``predicate``."""
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        s = mm.ctl("status")
        pair = (s["trading_state"], s["reason"])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        if predicate(s):
            return seen, s
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout_s}s; states seen: {seen}")


def test_a_losing_trend_goes_through_reducing_to_halted_on_the_stop_loss(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss=30", "--set", "risk.reduce_at_fraction=0.2",
                  "--set", "risk.max_drawdown=0", "--set", "risk.max_position=0.3",
                  "--set", "risk.max_order_size=0.05",
                  "--set", "quoter.base_size=0.01", "--set", "risk.max_notional=100000", *UNGUARDED,
                  *protection(5))
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        for _ in range(8):   # toxic flow: someone sells into our bids...
            mm.sim("sim/trade", instrument=BTC, direction="sell", amount=0.02)
            time.sleep(0.1)
        mm.sim("sim/trend", usd_per_s=-150.0, seconds=30.0)   # ...just before the market falls
        seen, status = states_until(mm, lambda s: s["trading_state"] == "HALTED", 60)
        assert ("REDUCING", "stop loss") in seen, seen
        assert seen.index(("REDUCING", "stop loss")) < seen.index(("HALTED", "stop loss")), seen
        assert status["pnl"]["equity"] <= -30
        mm.wait(lambda s: not s["quoting"], 10, "quotes pulled")
        time.sleep(1.0)
        assert mm.ctl("status")["trading_state"] == "HALTED"   # no way out but resume
        assert mm.exchange_state()["open_orders"] == []
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []


def test_a_drawdown_from_the_high_water_mark_halts(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss=0", "--set", "risk.max_drawdown=5.0",
                  "--set", "quoter.base_size=0.01", "--set", "risk.max_position=0.3",
                  "--set", "risk.max_order_size=0.05",
                  "--set", "risk.max_notional=100000", *UNGUARDED,
                  *protection(5))
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        mm.sim("sim/options", flow_rate=20.0)
        mm.wait(lambda s: s["pnl"]["high_water"] > 0, 30, "some profit first")
        # The flow stops: its spread, earned faster than the trend's loss, once kept the equity
        # rising through the whole trend (CI: +24 -> +439 USD in 60 s, never 5 below its high).
        mm.sim("sim/options", flow_rate=0.0)
        for _ in range(8):   # then toxic buying into our asks before the market rises
            mm.sim("sim/trade", instrument=BTC, direction="buy", amount=0.02)
            time.sleep(0.1)
        mm.sim("sim/trend", usd_per_s=60.0, seconds=30.0)
        _, status = states_until(mm, lambda s: s["trading_state"] == "HALTED", 60)
        assert status["reason"] == "drawdown"
        assert status["pnl"]["high_water"] > 0
        assert status["pnl"]["high_water"] - status["pnl"]["equity"] >= 5.0
    finally:
        assert mm.stop() == 0, mm.output()


def exchange_pnl(mm):
    """The exchange's view: (position in BTC, fees from its trade history, trades, total P&L in USD)."""
    books = exchange_books(mm)
    return books["positions"].get(BTC, 0.0), books["fees"], books["fills"], books["equity"]


def test_our_pnl_equals_the_exchanges_after_hundreds_of_fills_and_a_reconnect(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss=0", "--set", "risk.max_drawdown=0",
                  "--set", "risk.max_position=0.05",
                  *protection(50))
    try:
        mm.wait(lambda s: s["quoting"], 20, "quoting")
        mm.sim("sim/options", flow_rate=40.0)
        mm.wait(lambda s: s["fills"] >= 100, 60, "100 fills")
        mm.sim("sim/drop_connections", scope="private")   # fills during the gap come back by replay
        mm.wait(lambda s: s["fills"] >= 200 and s["connected"], 90, "200 fills")
        mm.ctl("pause")
        mm.sim("sim/options", flow_rate=0.0, volatility=0.0)
        mm.wait(lambda s: not s["quoting"], 10, "quotes pulled")
        time.sleep(2.0)                                      # let the mark settle
        position, fees, n_trades, pnl = exchange_pnl(mm)
        ours = mm.wait(lambda s: abs(s["positions"][BTC] - position) < 1e-9 and s["fills"] == n_trades,
                       10, "our books caught up")
        assert ours["pnl"]["fees"] == pytest.approx(fees, abs=1e-6)
        # Marks differ by the settling EMA only; funding is accrued from tickers: cents at most.
        assert ours["pnl"]["equity"] == pytest.approx(pnl, abs=0.05 + abs(position) * 2.0)
        print(f"\nours: fills {ours['fills']} equity {ours['pnl']['equity']:.4f} fees {ours['pnl']['fees']:.4f}"
              f" | exchange: trades {n_trades} P&L {pnl:.4f} fees {fees:.4f} position {position:+.3f}")
    finally:
        assert mm.stop() == 0, mm.output()


def test_the_kill_switch_works_with_quoter_and_risk_dead(tmp_path):
    mm = Pipeline(tmp_path)
    try:
        status = mm.wait(lambda s: s["quoting"], 20, "quoting")
        pids = {p["name"]: p["pid"] for p in status["processes"]}
        os.kill(pids["quoter"], signal.SIGKILL)
        os.kill(pids["risk"], signal.SIGKILL)
        result = mm.ctl("kill")
        assert result["cancelled"] is True
        assert mm.exchange_state()["open_orders"] == []
        status = mm.wait(lambda s: all(p["alive"] for p in s["processes"]), 20, "restarted")
        time.sleep(1.0)
        status = mm.ctl("status")
        assert status["trading_state"] == "HALTED" and status["reason"] == "kill"
        assert mm.exchange_state()["open_orders"] == [] and not status["quoting"]
    finally:
        assert mm.stop() == 0, mm.output()
