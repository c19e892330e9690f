"""Position and P&L per instrument from fills, average-price accounting (quote currency, USD).

A fill that extends the position moves the average price; one that reduces it realises
(price - average) x closed amount (sign by side). Fees add up separately. An authoritative
position from the exchange (reconciliation) replaces ours; when it differs, the difference is
booked at the mark so equity stays continuous, and the event is logged by the caller.
"""
from __future__ import annotations

import math


class PositionBook:
    def __init__(self, n_instruments: int):
        self.position = [0.0] * n_instruments   # contracts, signed
        self.average = [0.0] * n_instruments    # USD
        self.realised = 0.0
        self.fees = 0.0
        self.fills = 0

    def fill(self, iid: int, side: int, price: float, amount: float, fee: float) -> None:
        """A fill of ``amount`` contracts at ``price``; side +1 bought, -1 sold; fee in USD."""
        if not (amount > 0 and price > 0 and math.isfinite(price) and side in (1, -1)):
            raise ValueError(f"fill side={side} price={price} amount={amount}: expected side +/-1, "
                             "price > 0 and amount > 0")
        pos, avg = self.position[iid], self.average[iid]
        signed = side * amount
        if pos == 0 or (pos > 0) == (signed > 0):
            new = pos + signed
            self.average[iid] = (avg * abs(pos) + price * amount) / abs(new)
            self.position[iid] = new
        else:
            closed = min(amount, abs(pos))
            self.realised += closed * (price - avg) * (1 if pos > 0 else -1)
            new = pos + signed
            if abs(new) < 1e-12:
                new = 0.0
            self.position[iid] = new
            if new == 0.0:
                self.average[iid] = 0.0
            elif (new > 0) != (pos > 0):
                self.average[iid] = price   # flipped: the remainder opened at this price
        self.fees += fee
        self.fills += 1

    def reconcile(self, iid: int, position: float, mark: float) -> float:
        """Take the exchange's position; returns the difference it made (contracts)."""
        diff = position - self.position[iid]
        if abs(diff) < 1e-12:
            return 0.0
        if position == 0.0:
            self.average[iid] = 0.0
        elif self.position[iid] == 0.0 or (position > 0) != (self.position[iid] > 0):
            self.average[iid] = mark if mark > 0 else self.average[iid]
        self.position[iid] = position
        return diff

    def unrealised(self, marks) -> float:
        return sum((m - a) * p for p, a, m in zip(self.position, self.average, marks)
                   if p and m > 0)
