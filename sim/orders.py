"""An order inside the exchange and its OrderStatus wire form (THALEX_API.md section 3.3)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .instruments import Instrument, round8


@dataclass(eq=False)
class Order:
    """A live or finished order. ``account``/``session`` are None for background liquidity."""

    order_id: str
    instrument: Instrument
    direction: str            # buy | sell
    price: float | None       # USD; None for a market order without a limit
    amount: float             # coins, total size
    order_type: str = "limit"
    time_in_force: str = "good_till_cancelled"
    label: str | None = None
    client_order_id: int | None = None
    account: Any = None
    session: Any = None
    persistent: bool = True
    post_only: bool = False
    reduce_only: bool = False
    mass_quote_product: str | None = None   # set for mass quotes: the MMP group they belong to
    insert_reason: str = "client_request"   # or "conditional_order" (sim/conditional.py)
    conditional_order_id: str | None = None  # the conditional order that created this one
    filled_amount: float = 0.0
    status: str = "open"
    delete_reason: str | None = None
    create_time: float = 0.0
    close_time: float | None = None
    seq: int = 0                  # time priority inside a price level: lower is earlier
    ticks: int = 0                # price in ticks while resting
    all_fills: list = field(default_factory=list)
    new_fills: list = field(default_factory=list)

    @property
    def is_buy(self) -> bool:
        return self.direction == "buy"

    @property
    def remaining(self) -> float:
        """Coins still open; 0 once the order is no longer active."""
        if self.status in ("cancelled", "cancelled_partially_filled", "filled"):
            return 0.0
        return round8(self.amount - self.filled_amount)

    @property
    def is_background(self) -> bool:
        return self.account is None

    def fill(self, price: float, amount: float, trade_id: str, maker_taker: str, now: float) -> dict:
        """Record a fill of ``amount`` coins at ``price``; returns the Fill object."""
        self.filled_amount = round8(self.filled_amount + amount)
        f = {"trade_id": trade_id, "price": price, "amount": amount, "time": now,
             "maker_taker": maker_taker, "leg_index": 0}
        self.all_fills.append(f)
        self.new_fills.append(f)
        if self.filled_amount >= self.amount - 1e-9:
            self.close("filled", "filled", now)
        else:
            self.status = "partially_filled"
        return f

    def close(self, status: str, delete_reason: str, now: float) -> None:
        """Make the order inactive. A cancel after fills becomes cancelled_partially_filled."""
        if status == "cancelled" and self.filled_amount > 0:
            status = "cancelled_partially_filled"
        self.status = status
        self.delete_reason = delete_reason
        self.close_time = now

    @property
    def active(self) -> bool:
        return self.status in ("open", "partially_filled")

    def status_dict(self, change_reason: str, fills: list | None = None) -> dict:
        """The OrderStatus object; ``fills`` defaults to this update's new fills."""
        d: dict = {
            "order_id": self.order_id,
            "order_type": self.order_type,
            "time_in_force": self.time_in_force,
            "instrument_name": self.instrument.instrument_name,
            "direction": self.direction,
            "amount": self.amount,
            "filled_amount": self.filled_amount,
            "remaining_amount": self.remaining,
            "status": self.status,
            "fills": list(self.new_fills if fills is None else fills),
            "change_reason": change_reason,
            "insert_reason": self.insert_reason,
            "create_time": self.create_time,
            "persistent": self.persistent,
        }
        if self.price is not None:
            d["price"] = self.price
        if self.label is not None:
            d["label"] = self.label
        if self.client_order_id is not None:
            d["client_order_id"] = self.client_order_id
        if self.delete_reason is not None:
            d["delete_reason"] = self.delete_reason
        if self.close_time is not None:
            d["close_time"] = self.close_time
        if self.reduce_only:
            d["reduce_only"] = True
        if self.conditional_order_id is not None:
            d["conditional_order_id"] = self.conditional_order_id
        return d
