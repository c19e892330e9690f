"""Accounts: positions, average price, realised P&L, fees, cash, trade history.

All money is USD (the contracts are linear: 1 coin worth 1 USD per index point). A fee is
``price * fee_rate * amount`` (fee basis = trade price), a negative rate is a rebate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .instruments import round8


@dataclass
class Position:
    """One instrument's position. ``position`` in coins (negative = short), prices in USD."""

    instrument_name: str
    position: float = 0.0
    average_price: float = 0.0
    realised_pnl: float = 0.0
    funding_pnl: float = 0.0   # accrued perpetual funding, USD (not yet settled)

    def apply(self, signed_amount: float, price: float) -> float:
        """Add a trade of ``signed_amount`` coins at ``price``; returns the P&L it realised."""
        old = self.position
        new = round8(old + signed_amount)
        realised = 0.0
        if old == 0 or (old > 0) == (signed_amount > 0):
            total = abs(old) + abs(signed_amount)
            self.average_price = (abs(old) * self.average_price + abs(signed_amount) * price) / total
        else:
            closed = min(abs(old), abs(signed_amount))
            realised = closed * (price - self.average_price) * (1 if old > 0 else -1)
            if abs(signed_amount) > abs(old):
                self.average_price = price          # flipped: the remainder opened at this price
            elif new == 0:
                self.average_price = 0.0
        self.position = new
        self.realised_pnl += realised
        return realised


@dataclass
class Account:
    """A trading account (one per API key). ``cash`` in USD."""

    account_number: str
    cash: float = 1_000_000.0
    positions: dict = field(default_factory=dict)      # instrument_name -> Position
    trades: list = field(default_factory=list)         # Trade objects, oldest first
    fees_paid: float = 0.0
    session_realised: float = 0.0
    orders: dict = field(default_factory=dict)         # order_id -> live Order

    def position(self, instrument_name: str) -> Position:
        pos = self.positions.get(instrument_name)
        if pos is None:
            pos = self.positions[instrument_name] = Position(instrument_name)
        return pos

    def record_fill(self, order, price: float, amount: float, maker_taker: str, fee_rate: float,
                    trade_id: str, now: float, index: float, funding_mark: float) -> dict:
        """Book one fill of ``order`` into position, cash and history; returns the Trade."""
        signed = amount if order.is_buy else -amount
        pos = self.position(order.instrument.instrument_name)
        realised = pos.apply(signed, price)
        fee = round8(price * fee_rate * amount)
        self.cash += realised - fee
        self.fees_paid += fee
        self.session_realised += realised
        trade = {
            "trade_type": "normal", "trade_id": trade_id, "order_id": order.order_id,
            "instrument_name": order.instrument.instrument_name, "direction": order.direction,
            "price": price, "amount": amount, "time": now, "position_after": pos.position,
            "session_realised_after": round8(self.session_realised),
            "position_pnl": round8(realised), "perpetual_funding_pnl": 0.0, "fee": fee,
            "index": index, "fee_rate": fee_rate, "fee_basis": price, "funding_mark": funding_mark,
            "maker_taker": maker_taker, "leg_index": 0,
        }
        if order.label is not None:
            trade["label"] = order.label
        if order.client_order_id is not None:
            trade["client_order_id"] = order.client_order_id
        self.trades.append(trade)
        return trade

    def portfolio_entry(self, pos: Position, mark: float, index: float) -> dict:
        """The PortfolioEntry object; unrealised P&L against the average price (no daily reset)."""
        return {
            "instrument_name": pos.instrument_name, "position": pos.position,
            "mark_price": mark, "index": index, "start_price": pos.average_price,
            "average_price": pos.average_price,
            "unrealised_pnl": round8((mark - pos.average_price) * pos.position),
            "realised_pnl": round8(pos.realised_pnl),
            "entry_value": round8(pos.position * pos.average_price),
            "unrealised_perpetual_funding": round8(pos.funding_pnl),
        }

    def summary(self, marks: dict[str, float], margin_rate: float = 0.1) -> dict:
        """The AccountSummary object. Required margin is ``margin_rate`` of the open notional."""
        unrealised = sum((marks.get(p.instrument_name, p.average_price) - p.average_price)
                         * p.position + p.funding_pnl for p in self.positions.values())
        notional = sum(abs(p.position) * marks.get(p.instrument_name, p.average_price)
                       for p in self.positions.values())
        required = margin_rate * notional
        margin = self.cash + unrealised
        return {
            "unrealised_pnl": round8(unrealised), "cash_collateral": round8(self.cash),
            "margin": round8(margin), "required_margin": round8(required),
            "remaining_margin": round8(margin - required),
            "session_realised_pnl": round8(self.session_realised),
            "cash": [{"currency": "USDT", "balance": round8(self.cash), "collateral_factor": 1.0,
                      "collateral_index_price": None, "transactable": True}],
        }


def account_number_for(key_id: str) -> str:
    """A stable account number ``A`` + 9 digits derived from an API key id."""
    import zlib
    return "A" + f"{zlib.crc32(key_id.encode()) % 1_000_000_000:09d}"
