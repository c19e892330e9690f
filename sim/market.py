"""The simulated market: index random walk, background liquidity, Poisson market-order flow.

One numpy Generator drives everything, drawn in a fixed order per step, so a run is reproducible
from ``--seed`` (as long as client orders are the same). Per step of ``dt`` seconds:
- each underlying's index moves by drift*dt + volatility*sqrt(dt)*N(0,1) plus a rare jump;
  ``volatility`` and ``drift`` are given for BTC in USD and scaled to ETH by the price ratio;
- market orders arrive as a Poisson process (``flow_rate`` per second per side per instrument);
  each reaches a random distance delta ~ Exponential(mean = ``reach_bps`` of the price) from the
  fair price and sweeps the book up to there, so a resting order at distance delta is hit with
  intensity A exp(-k delta) (A = flow_rate, k = 1/mean reach), the Avellaneda-Stoikov fill model;
- background limit orders are re-laid around each instrument's fair price (levels that did not
  move keep their queue place); a new background order that crosses a client order trades with it;
- mark = fair + 30-step EMA of (book mid - fair); perpetual funding rate (24 h basis) = premium
  over index with a 2.5 bp dampener, accrued into every perpetual position's funding P&L.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .instruments import round8
from .orders import Order

SECONDS_PER_YEAR = 365.25 * 86400
FUTURE_BASIS = 0.05          # annualised premium of the dated future over the index
EMA_WEIGHT = 2 / 31
DAMPENER = 0.00025


class Market:
    def __init__(self, engine, seed: int = 0, volatility: float = 5.0, drift: float = 0.0,
                 flow_rate: float = 1.0, reach_bps: float = 2.0, jump_rate: float = 1 / 300,
                 levels: int = 8, half_spread_bps: float = 0.5, level_usd: float = 20_000.0):
        self.engine = engine
        self.rng = np.random.default_rng(seed)
        self.volatility, self.drift = volatility, drift
        self.flow_rate, self.reach_bps, self.jump_rate = flow_rate, reach_bps, jump_rate
        self.n_levels, self.half_spread_bps, self.level_usd = levels, half_spread_bps, level_usd
        instruments = engine.instruments.values()
        self.index_px = {i.underlying: i.start_price for i in instruments}
        self.scale = {u: p / self.index_px.get("BTCUSD", p) for u, p in self.index_px.items()}
        self.premium = {i.instrument_name: 0.0 for i in instruments}
        self.funding_acc = {i.instrument_name: 0.0 for i in instruments}
        self.background = {i.instrument_name: {} for i in instruments}  # (is_buy, ticks) -> Order
        self.trend_usd_per_s, self.trend_until = 0.0, 0.0
        self.mark_timestamp = round(self.engine.clock(), 6)   # Thalex stamps whole microseconds
        self.start_time = self.mark_timestamp   # Unix s; simulated time = start + elapsed steps
        self.elapsed_s = 0.0
        self.steps = 0
        engine.prices = self
        for name in sorted(engine.instruments):
            self._relay_liquidity(name)   # a book to trade against from the first request on

    # ---------------------------------------------------------------- prices (engine interface)
    def index(self, underlying: str) -> float:
        return round8(self.index_px[underlying])

    def fair(self, name: str) -> float:
        instr = self.engine.instruments[name]
        px = self.index_px[instr.underlying]
        if instr.expiration_timestamp is not None:
            # Simulated, not wall, time: the same seed gives the same prices.
            now = self.start_time + self.elapsed_s
            years = max(0.0, instr.expiration_timestamp - now) / SECONDS_PER_YEAR
            px *= 1 + FUTURE_BASIS * years
        return px

    def mark(self, name: str) -> float:
        instr = self.engine.instruments[name]
        return round8(round((self.fair(name) + self.premium[name]) / instr.tick_size * 100)
                      * instr.tick_size / 100)

    def funding_rate(self, name: str) -> float:
        """24-hour funding rate of a perpetual (positive: longs pay shorts)."""
        instr = self.engine.instruments[name]
        if instr.type != "perpetual":
            return 0.0
        p = self.premium[name] / self.index_px[instr.underlying]
        if abs(p) < DAMPENER:
            return 0.0
        return round8(p - math.copysign(DAMPENER, p))

    def funding_mark(self, name: str) -> float:
        return round8(self.funding_acc[name])

    def trend(self, usd_per_s: float, seconds: float) -> None:
        """Add ``usd_per_s`` (BTC terms) of drift for the next ``seconds``."""
        self.trend_usd_per_s, self.trend_until = usd_per_s, time.monotonic() + seconds

    # ---------------------------------------------------------------- one step
    def step(self, dt: float) -> None:
        self.steps += 1
        self.elapsed_s += dt
        trend = self.trend_usd_per_s if time.monotonic() < self.trend_until else 0.0
        for underlying in sorted(self.index_px):
            s = self.scale[underlying]
            move = (self.drift + trend) * s * dt + self.volatility * s * math.sqrt(dt) * self.rng.normal()
            if self.rng.random() < self.jump_rate * dt:
                move += self.rng.normal() * 30 * self.volatility * s
            self.index_px[underlying] = max(self.index_px[underlying] + move, 1.0)
        for name in sorted(self.engine.instruments):
            # Flow before re-laying: what is published after a step always has a full ladder.
            self._flow(name, dt)
            self._relay_liquidity(name)
            self._update_mark(name, dt)
        self.mark_timestamp = round(self.engine.clock(), 6)   # Thalex stamps whole microseconds

    def _relay_liquidity(self, name: str) -> None:
        instr = self.engine.instruments[name]
        fair = self.fair(name)
        half = max(instr.tick_size, fair * self.half_spread_bps * 1e-4)
        base = self.level_usd / fair
        want = {}
        for i in range(self.n_levels):
            size = base * (1 + 0.5 * i) * self.rng.uniform(0.5, 1.5)
            size = max(instr.min_order_amount, instr.round_amount(size))
            want[(True, math.floor((fair - half * (i + 1)) / instr.tick_size))] = size
            size = base * (1 + 0.5 * i) * self.rng.uniform(0.5, 1.5)
            size = max(instr.min_order_amount, instr.round_amount(size))
            want[(False, math.ceil((fair + half * (i + 1)) / instr.tick_size))] = size
        resting = self.background[name]
        for key, order in list(resting.items()):
            if key not in want or not order.active:
                del resting[key]
                if order.active:
                    self.engine.remove(order, "client_cancel", "cancel")
        for key, size in want.items():
            if key in resting:
                continue
            is_buy, ticks = key
            if ticks <= 0:
                continue
            order = self.background_order(name, "buy" if is_buy else "sell", size)
            order.price = instr.from_ticks(ticks)
            self.engine.submit(order, ticks, False, "insert")
            if order.active:
                resting[key] = order

    def background_order(self, name: str, direction: str, amount: float, ioc: bool = False):
        e = self.engine
        return Order(e.ids.order_id(), e.instruments[name], direction, None, amount,
                     time_in_force="immediate_or_cancel" if ioc else "good_till_cancelled",
                     create_time=e.clock())

    def _flow(self, name: str, dt: float) -> None:
        instr = self.engine.instruments[name]
        fair = self.fair(name)
        book = self.engine.books[name]
        for is_buy in (True, False):
            for _ in range(self.rng.poisson(self.flow_rate * dt)):
                reach = self.rng.exponential(self.reach_bps * 1e-4 * fair)
                limit = instr.to_ticks(fair + reach if is_buy else fair - reach)
                amount = instr.round_amount(min(book.amount_within(is_buy, limit),
                                                50 * self.level_usd / fair))
                if amount >= instr.min_order_amount:
                    self.market_order(name, "buy" if is_buy else "sell", amount, limit)

    def market_order(self, name: str, direction: str, amount: float, limit: int | None = None):
        """An IOC order from the background flow (also sim/trade); returns its OrderStatus."""
        order = self.background_order(name, direction, amount, ioc=True)
        order.order_type = "market" if limit is None else "limit"
        if limit is None:
            return self.engine.submit(order, self.engine._collar_limit(order, "clamp"), False, "insert")
        return self.engine.submit(order, limit, False, "insert")

    def _update_mark(self, name: str, dt: float) -> None:
        instr = self.engine.instruments[name]
        book = self.engine.books[name]
        bid, ask = book.best(True), book.best(False)
        fair = self.fair(name)
        if bid is not None and ask is not None:
            mid = (bid + ask) / 2 * instr.tick_size
            self.premium[name] += EMA_WEIGHT * ((mid - fair) - self.premium[name])
        if instr.type == "perpetual":
            index = self.index_px[instr.underlying]
            rate = self.funding_rate(name)
            per_coin = rate * index * dt / 86400
            self.funding_acc[name] += per_coin
            for account in self.engine.accounts.values():
                pos = account.positions.get(name)
                if pos is not None and pos.position:
                    pos.funding_pnl -= pos.position * per_coin
