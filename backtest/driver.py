"""The backtest driver: market data -> replay core (exchange model + the live QuoteEngine) ->
the live pre-trade limits and trading state -> order actions -> back into the core.

The strategy is the live one: the QuoteEngine (kernels/quote.pyx) decides, procs/risk/limits.py
approves (position, size, notional, price band, REDUCING, HALTED), procs/risk/trading_state.py
moves ACTIVE/REDUCING/HALTED on P&L and position, procs/risk/position.py books fills (FIFO lots,
fees). Position and order state change only when the exchange's answer reaches us.
"""
from __future__ import annotations

import dataclasses
import datetime
import sys
import time
from pathlib import Path

import numpy as np

from backtest.core import Core
from backtest.core_twin import Core as CoreTwin
from backtest.events import QUEUE_MODELS, STOP_DATA, STOP_END, STOP_QUOTE, STOP_UNTIL
from backtest.rundir import RunWriter
from conf.load import to_dict
from kernels.quote import QuoteEngine
from procs.risk.limits import Limits
from procs.risk.position import PositionBook
from procs.risk.trading_state import TradingState
from shm import records as R
from shm.state import TRADING_STATE_NAMES

SAMPLE_NS = 1_000_000_000      # pnl.csv and the trading state's P&L limits: every simulated second


class _State:
    """The few shared-state fields TradingState reads and writes, in a dict (no segment)."""

    def __init__(self):
        self.values = {"paused": 0}

    def get(self, key):
        return self.values.get(key, 0)

    def set(self, key, value):
        self.values[key] = value


def engine_params(config):
    """The quoter's parameters as the live quoter builds them (max_position capped by [risk])."""
    p = config.quoter
    if hasattr(p, "max_position"):
        p = dataclasses.replace(p, max_position=min(p.max_position, config.risk.max_position))
    return p


class Backtest:
    def __init__(self, config, twin: bool = False, out: Path | None = None, progress: bool = False):
        bt, risk = config.backtest, config.risk
        self.config, self.bt, self.out, self.progress = config, bt, out, progress
        self.tick, self.lot = bt.tick_size, bt.amount_tick
        self.engine = QuoteEngine(engine_params(config), bt.tick_size, bt.amount_tick, bt.min_amount, 0.0)
        cls = CoreTwin if twin else Core
        self.core = cls(bt.tick_size, bt.amount_tick, QUEUE_MODELS[bt.queue_model], bt.queue_power,
                        bt.partial_fills, int(bt.entry_latency_ms * 1e6), int(bt.response_latency_ms * 1e6),
                        risk.maker_fee_rate, risk.taker_fee_rate, int(bt.requote_interval_ms * 1e6), self.engine,
                        config.gateway.mass_quote, 101)     # Thalex client order ids start above 100
        self.core.fills_only = True
        self.limits = Limits(risk.max_position, risk.max_notional, risk.max_order_size, risk.price_band_bps,
                             bt.amount_tick, bt.min_amount)
        # The live pre-trade checks run inside the core on every ladder (the same kernel the
        # gateway runs); the trading state reaches it through block / reducing (_sync_trading).
        self.core.set_pretrade(self.limits.as_tuple())
        self.shared = _State()
        self.trading = TradingState(risk, self.shared, lambda reason: self._cancel_all())
        self._sync_trading()
        self.book = PositionBook(1)
        self.mass_quote = config.gateway.mass_quote
        self.trade_seq = 0
        self.day_ns = (0, 0, "")          # [start, end) ns of the UTC day last named, its name
        self.w = None

    # ---- the run ------------------------------------------------------------------------------
    def run(self, chunks) -> dict:
        settings = to_dict(self.config)
        settings["instance"] = "backtest"
        self.w = RunWriter(self.out, settings) if self.out is not None else None
        self.core.log_rows = self.w is not None
        core, chunks = self.core, iter(chunks)
        wall0, until, t0 = time.perf_counter(), None, None
        last_print = wall0
        while True:
            code = core.run(until if until is not None else -1)
            if core.n_reports:
                self._reports(core.take_reports())
            if code == STOP_DATA:
                chunk = next(chunks, None)
                if chunk is None:
                    core.feed(np.zeros(0, self.core_dtype()), True)
                else:
                    core.feed(chunk, False)
                    if until is None and len(chunk):
                        t0 = int(chunk["exch_ts"][0])
                        until = (t0 // SAMPLE_NS + 1) * SAMPLE_NS
            elif code == STOP_QUOTE:
                raise RuntimeError("the core stopped at a ladder: it checks and applies ladders itself "
                                   "once set_pretrade was called (it was)")
            elif code == STOP_UNTIL:
                if until is None:
                    continue
                self._sample(until)
                if self.w and (until // SAMPLE_NS) % 64 == 0:
                    self._flush_text()           # the core's CSV text, every 64 simulated seconds
                until += SAMPLE_NS
                if self.progress and time.perf_counter() - last_print > 1.0:
                    last_print = time.perf_counter()
                    self._progress(until - t0, last_print - wall0)
            elif code == STOP_END:
                break
        if until is not None:
            self._sample(max(core.now, until - SAMPLE_NS))
        if self.w:
            self._flush_text()
        wall = time.perf_counter() - wall0
        if self.progress:
            self._progress(core.now - (t0 or 0), wall)
            print(file=sys.stderr)
        summary = self.summary(t0 or 0)
        if self.w is not None:
            self.w.close(summary)
        return {**summary, "wall_s": wall, "events_per_s": core.events / wall if wall > 0 else 0.0}

    @staticmethod
    def core_dtype():
        from backtest.events import EVENT_DTYPE
        return EVENT_DTYPE

    def _progress(self, sim_ns, wall_s):
        ev = self.core.events
        print(f"\r[backtest] {sim_ns / 3.6e12:7.2f} h simulated  {ev:>11,} events  "
              f"{ev / wall_s if wall_s else 0:>12,.0f} events/s  {self.book.fills:>7,} fills",
              end="", file=sys.stderr, flush=True)

    # ---- our fills (the core keeps our order table and logs every action and answer) ---------
    def _reports(self, fills) -> None:
        """Book a batch of fills (those that reached us before the next quote step), then look
        at the trading state once, as the live risk process does after each pass over its
        executions ring."""
        book, engine, w = self.book, self.engine, self.w
        for exch_ts, local_ts, oid, price, amount, _, fee, _, side, maker, _ in fills.tolist():
            self.trade_seq += 1
            book.fill(0, side, price, amount, fee)   # no trade id: the core reports each fill once
            engine.on_fill(side, price, exch_ts * 1e-9)
            if w:
                w.row("fills", (exch_ts, 0, side, 1 if maker else 2, price, amount, fee, book.position[0],
                                oid, self.trade_seq))
        self.core.inventory = book.position[0]
        self._evaluate(local_ts)

    def _sync_trading(self) -> None:
        """The trading state as the core's pre-trade checks take it."""
        t = self.trading
        self.core.block = R.RISK_PAUSED if self.shared.values["paused"] else R.RISK_HALTED if t.halted else 0
        self.core.reducing = t.reducing

    def _flush_text(self) -> None:
        for name in ("orders", "quotes", "md"):
            self.w.text(name, self.core.take_text(name))

    def _cancel_all(self) -> None:
        self.core.cancel_all()

    # ---- P&L and the trading state -----------------------------------------------------------
    def _mark(self) -> float:
        """The local mid (USD), 0 while a side of our book is empty."""
        return self.core.local_mid()

    def _evaluate(self, now_ns: int) -> None:
        mark = self._mark()
        if mark > 0:
            start, end, day = self.day_ns
            if not start <= now_ns < end:
                start = now_ns - now_ns % 86_400_000_000_000
                day = datetime.datetime.fromtimestamp(start / 1e9, datetime.timezone.utc).date().isoformat()
                self.day_ns = (start, start + 86_400_000_000_000, day)
            state = self.trading.state
            self.trading.evaluate(self.book.equity([mark]), self.book.position, day)
            if self.trading.state != state:
                self._sync_trading()

    def _sample(self, now_ns: int) -> None:
        self._evaluate(now_ns)
        if self.w is None:
            return
        mark = self._mark()
        b = self.book
        marks = [mark]
        self.w.row("pnl", (now_ns, TRADING_STATE_NAMES[self.trading.state], 0, int(self.core.has_orders()),
                           b.position[0], b.realised, b.unrealised(marks), b.fees, b.funding,
                           b.equity(marks), self.trading.high_water, b.fills))

    def summary(self, t0: int) -> dict:
        b, mark = self.book, self._mark()
        return {"events": int(self.core.events), "simulated_s": (self.core.now - t0) / 1e9 if t0 else 0.0,
                "fills": b.fills, "position": b.position[0], "realised_usd": b.realised,
                "fees_usd": b.fees, "equity_usd": b.equity([mark]) if mark else b.realised - b.fees,
                "final_mark": mark, "trading_state": TRADING_STATE_NAMES[self.trading.state],
                "trading_reason": self.trading.reason, "orders": self.core.counts(),
                "sigma": self.core.last_sigma,
                "intensity_a": float(self.engine.intensity.a), "intensity_k": float(self.engine.intensity.k),
                "rules": {"queue_model": self.bt.queue_model, "partial_fills": self.bt.partial_fills,
                          "entry_latency_ms": self.bt.entry_latency_ms,
                          "response_latency_ms": self.bt.response_latency_ms,
                          "feed_latency_ms": self.bt.feed_latency_ms,
                          "requote_interval_ms": self.bt.requote_interval_ms,
                          "mass_quote": self.mass_quote}}
