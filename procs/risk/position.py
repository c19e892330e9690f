"""Positions and P&L per instrument: FIFO lots by time, fees per fill, funding, reconciliation.

Units: amounts in contracts (signed: + long, - short), prices and money in USD.

- A fill that extends the position opens a lot (price, amount) at the back of the queue. One that
  reduces it consumes lots from the front, oldest first, realising (fill - lot price) x amount
  (sign by side); what is left of the fill after the queue is empty opens a lot the other way.
- Every fill is booked once: fills are keyed by (the exact 128-bit trade id, side) (an int and
  +1/-1; trade id 0 = no id, not deduplicated), and a repeat (a duplicated frame, the same trade
  reported by session.orders and by the trade history) is ignored and counted. The side is part
  of the key because both fills of a self-trade (our bid hit by our own order) carry the one
  trade id: keyed by the id alone, the second would be lost. The journal form writes each key as
  the exchange's 32 hex digits and the side.
- The fee booked with a fill is the exchange's when known; otherwise the configured rate, and the
  exchange's figure replaces it when the trade history reports it (``correct_fee``).
- Perpetual funding accrues per mark update: -position x rate x index x dt / 86400 (24 h rate,
  positive: longs pay), the exchange's formula (THALEX_API.md section 7).
- ``reconcile`` adopts the exchange's position: the difference is booked as a fill at the mark
  (no fee), so the lots match the exchange and equity stays continuous.

Total P&L = realised + unrealised (lots marked) - fees + funding; the property tests check it
equals the cash flow of every fill plus the marked inventory.
"""
from __future__ import annotations

import math
from collections import deque


class PositionBook:
    def __init__(self, n_instruments: int):
        self.lots = [deque() for _ in range(n_instruments)]   # [price, signed amount], oldest first
        self.position = [0.0] * n_instruments
        self.cost = [0.0] * n_instruments                       # USD, sum of price x amount of the lots
        self.realised = 0.0
        self.fees = 0.0
        self.funding = 0.0
        self.fills = 0
        self.duplicates = 0
        self._fee_by_trade: dict[tuple[int, int], float] = {}   # (u128 trade id, side) -> fee booked

    # ---- fills -----------------------------------------------------------------------------
    def fill(self, iid: int, side: int, price: float, amount: float, fee: float, trade_id: int = 0) -> bool:
        """Book a fill of ``amount`` at ``price`` (side +1 bought, -1 sold); False if a repeat."""
        if not (amount > 0 and price > 0 and math.isfinite(price) and math.isfinite(amount)
                and side in (1, -1) and math.isfinite(fee)):
            raise ValueError(f"fill side={side} price={price} amount={amount} fee={fee}: expected "
                             "side +/-1, price > 0, amount > 0, finite fee")
        if trade_id:
            key = (trade_id, side)
            if key in self._fee_by_trade:
                self.duplicates += 1
                return False
            self._fee_by_trade[key] = fee
        self._book(iid, side * amount, price)
        self.fees += fee
        self.fills += 1
        return True

    def _book(self, iid: int, signed: float, price: float) -> None:
        lots = self.lots[iid]
        remaining = signed
        while lots and remaining and (lots[0][1] > 0) != (remaining > 0):
            lot = lots[0]
            closed = min(abs(lot[1]), abs(remaining))
            direction = 1.0 if lot[1] > 0 else -1.0
            self.realised += closed * (price - lot[0]) * direction
            lot[1] -= direction * closed
            remaining += direction * closed
            if abs(lot[1]) < 1e-12:
                lots.popleft()
            if abs(remaining) < 1e-12:
                remaining = 0.0
        if remaining:
            lots.append([price, remaining])
        self._settle(iid)

    def _settle(self, iid: int) -> None:
        """Position and cost of ``iid`` from its lots (after any change of them): unrealised P&L,
        asked for on every risk pass and every backtest sample, is then one product per instrument."""
        position = cost = 0.0
        for price, amount in self.lots[iid]:
            position += amount
            cost += price * amount
        self.position[iid], self.cost[iid] = _clean(position), cost

    def correct_fee(self, trade_id: int, side: int, fee: float) -> float:
        """The exchange's fee for our ``side`` of a trade already booked; returns the change (USD)."""
        booked = self._fee_by_trade.get((trade_id, side))
        if booked is None or not math.isfinite(fee):
            return 0.0
        self._fee_by_trade[(trade_id, side)] = fee
        self.fees += fee - booked
        return fee - booked

    def seen(self, trade_id: int, side: int) -> bool:
        """True if our ``side`` (+1 bought, -1 sold) of trade ``trade_id`` is booked."""
        return (trade_id, side) in self._fee_by_trade

    # ---- marks, funding, reconciliation -----------------------------------------------------
    def accrue_funding(self, iid: int, rate_24h: float, index: float, dt_s: float) -> None:
        if self.position[iid] and math.isfinite(rate_24h) and index > 0 and dt_s > 0:
            self.funding -= self.position[iid] * rate_24h * index * dt_s / 86400.0

    def reconcile(self, iid: int, position: float, mark: float) -> float:
        """Adopt the exchange's position; returns the difference (contracts) booked at ``mark``."""
        diff = _clean(position - self.position[iid])
        if diff:
            price = mark if mark > 0 else (self.lots[iid][-1][0] if self.lots[iid] else 0.0)
            if price > 0:
                self._book(iid, diff, price)
            else:   # no price at all: take the position with an unknown cost
                self.lots[iid].clear()
                self.lots[iid].append([0.0, position])
                self._settle(iid)
        return diff

    def average(self, iid: int) -> float:
        """Volume-weighted price of the open lots (USD), 0 when flat."""
        pos = self.position[iid]
        return sum(p * a for p, a in self.lots[iid]) / pos if pos else 0.0

    def unrealised(self, marks) -> float:
        """Open lots at the marks (USD); an instrument without a mark (<= 0) counts 0."""
        total = 0.0
        for m, pos, cost in zip(marks, self.position, self.cost):
            if m > 0:
                total += m * pos - cost
        return total

    def equity(self, marks) -> float:
        return self.realised + self.unrealised(marks) - self.fees + self.funding

    # ---- persistence (a restarted risk process continues where it stopped) --------------------
    def to_dict(self) -> dict:
        return {"lots": [list(map(list, lots)) for lots in self.lots], "realised": self.realised,
                "fees": self.fees, "funding": self.funding, "fills": self.fills,
                "duplicates": self.duplicates,
                "fee_by_trade": [[f"{k:032X}", side, v] for (k, side), v in self._fee_by_trade.items()]}

    @classmethod
    def from_dict(cls, data: dict, n_instruments: int) -> "PositionBook":
        book = cls(n_instruments)
        for i, lots in enumerate(data.get("lots", [])[:n_instruments]):
            book.lots[i] = deque([float(p), float(a)] for p, a in lots)
            book._settle(i)
        book.realised, book.fees = float(data.get("realised", 0.0)), float(data.get("fees", 0.0))
        book.funding, book.fills = float(data.get("funding", 0.0)), int(data.get("fills", 0))
        book.duplicates = int(data.get("duplicates", 0))
        book._fee_by_trade = {}
        for k, side, fee in data.get("fee_by_trade", []):
            if side not in (1, -1):
                raise ValueError(f"fill key {k!r} side={side!r}: expected 1 or -1")
            book._fee_by_trade[(int(k, 16), side)] = float(fee)
        return book


def _clean(x: float) -> float:
    return 0.0 if abs(x) < 1e-12 else x
