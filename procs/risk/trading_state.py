"""The risk process's trading state: ACTIVE / REDUCING / HALTED, its reason, the paused flag.

- ACTIVE: ladders pass the limits as they are.
- REDUCING: only orders that shrink the position (limits.approve drops the other side).
  Entered at ``reduce_at_fraction`` of a P&L limit (stop loss on equity, drawdown from the
  high-water mark, daily loss since 00:00 UTC; take profit never reduces), with a position
  near its instrument's max_position, or near a portfolio limit (net delta of an underlying,
  gross notional: procs/risk/portfolio.py); it clears by itself when its cause does. It applies
  to the account: every instrument may only reduce. Position and portfolio limits never halt:
  the pre-trade checks hold them, so a limit reached through one instrument lets them all reduce. Hysteresis: once REDUCING for a
  cause, it takes 10 % of headroom back (the band times 0.9) to clear it, so the state does not
  flap on every tick at the edge.
- HALTED: at a limit itself, or on the operator's halt / kill / flatten, or on missed
  executions. Entering it pulls every instrument (``pull_all``); only an explicit resume
  (``set(ACTIVE, "")``) leaves it.
- paused: the operator's flag, beside the state (written by the control port, read here).

Every change is published in the shared state (trading_state, reason code and text, time).
Money in USD (equity = realised + unrealised - fees + funding), positions in contracts.
"""
from __future__ import annotations

import logging
import time

from shm import records as R
from shm.state import ACTIVE, HALTED, REDUCING, TRADING_STATE_NAMES

log = logging.getLogger("risk")
REASON_CODES = {"": 0, "operator halt": 1, "kill": 2, "flatten": 3, "stop loss": 4, "take profit": 5,
                "drawdown": 6, "missed executions": 7, "daily loss": 8, "near max_position": 9,
                "net delta": 10, "gross notional": 11}   # "net delta BTCUSD": the code of "net delta"
UNKNOWN_REASON = 99
HYSTERESIS = 0.9   # a REDUCING cause clears below this fraction of its band


class TradingState:
    def __init__(self, limits, shared, pull_all):
        """
        limits    the risk section: stop_loss, take_profit, max_drawdown, max_daily_loss (USD,
                  0 = off), reduce_at_fraction, max_position (contracts)
        shared    the pipeline's SharedState (the state is published there; paused is read)
        pull_all  pull_all(reason_bit): pull every instrument's quotes (on entering HALTED)
        """
        self.limits, self.shared, self.pull_all = limits, shared, pull_all
        self.state, self.reason = ACTIVE, ""
        self.high_water = 0.0                      # USD, highest equity seen
        self.day, self.day_start_equity = "", 0.0  # UTC date (YYYY-MM-DD) and its opening equity

    @property
    def halted(self) -> bool:
        return self.state == HALTED

    @property
    def reducing(self) -> bool:
        return self.state == REDUCING

    @property
    def paused(self) -> bool:
        return bool(self.shared.get("paused"))

    def restore(self, state: int, reason: str) -> None:
        """Continue from the shared state (a restarted risk process): nothing published again."""
        self.state, self.reason = state, reason

    def set(self, new: int, reason: str) -> None:
        if new == self.state and reason == self.reason:
            return
        log.warning("trading state %s -> %s%s", TRADING_STATE_NAMES[self.state],
                    TRADING_STATE_NAMES[new], f" ({reason})" if reason else "")
        self.state, self.reason = new, reason
        s = self.shared
        s.set("trading_state", new)
        s.set("reason", REASON_CODES.get(reason, REASON_CODES.get(reason.rsplit(" ", 1)[0], UNKNOWN_REASON)))
        s.set("reason_text", reason.encode()[:63])
        s.set("state_changed_ns", time.time_ns())
        if new == HALTED:
            self.pull_all(R.RISK_HALTED)

    def evaluate(self, equity: float, positions, today: str, max_positions=None, exposures=()) -> bool:
        """Limits that move the state by themselves: P&L limits, the position band, exposures.

        ``equity`` USD, ``positions`` contracts per instrument, ``today`` the UTC date,
        ``max_positions`` each instrument's limit (contracts; default: the section's one),
        ``exposures`` (reason, how far it has gone, limit) of the portfolio limits (USD), which
        reduce from the band and never halt. Returns True when a new day started (its opening
        equity was taken: worth saving)."""
        if self.state == HALTED:
            return False
        c = self.limits
        self.high_water = max(self.high_water, equity)
        new_day = today != self.day
        if new_day:
            self.day, self.day_start_equity = today, equity
        # (name, how far it has gone, limit): REDUCING from reduce_at_fraction of it, HALTED at it.
        # It runs on every risk pass and every backtest sample: no closures, one look at each limit.
        fraction, held = c.reduce_at_fraction, self.reason
        reducing = ""
        for name, used, limit in (("stop loss", -equity, c.stop_loss), ("take profit", equity, c.take_profit),
                                  ("drawdown", self.high_water - equity, c.max_drawdown),
                                  ("daily loss", self.day_start_equity - equity, c.max_daily_loss)):
            if not limit:
                continue
            if used >= limit:
                self.set(HALTED, name)
                return new_day
            if (not reducing and name != "take profit"
                    and used >= fraction * (HYSTERESIS if held == name else 1.0) * limit):
                reducing = name
        if not reducing:
            band = fraction * (HYSTERESIS if held == "near max_position" else 1.0)
            for i, p in enumerate(positions):
                if abs(p) >= band * (c.max_position if max_positions is None else max_positions[i]):
                    reducing = "near max_position"
                    break
        for name, used, limit in exposures:
            if not reducing and limit and used >= fraction * (HYSTERESIS if held == name else 1.0) * limit:
                reducing = name
        if reducing:
            self.set(REDUCING, reducing)
        elif self.state == REDUCING:
            self.set(ACTIVE, "")
        return new_day
