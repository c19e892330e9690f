"""How large an execution's numbers may be before they are garbage, not trading.

The decoders of executions (orders.py, account.py) refuse anything beyond these, so an absurd
but finite value (a price of 1e300, a fee of 1e12) never becomes a record; the risk process
checks its own records once more against the mark (procs/risk/validate.py). The bounds are far
outside any real trade: they catch corruption, not the market.
"""
from __future__ import annotations

MAX_PRICE = 1e9        # USD per contract
MAX_AMOUNT = 1e6       # contracts in one order, fill or position
MAX_FEE_RATE = 0.01    # |fee| at most 1 % of the fill's notional (Thalex charges basis points)


def price_ok(price: float) -> bool:
    """0 < price <= MAX_PRICE (NaN fails)."""
    return 0.0 < price <= MAX_PRICE


def amount_ok(amount: float, allow_zero: bool = False) -> bool:
    """0 < amount <= MAX_AMOUNT, or 0 <= amount with ``allow_zero`` (NaN fails)."""
    return (0.0 <= amount if allow_zero else 0.0 < amount) and amount <= MAX_AMOUNT


def fee_ok(fee: float, price: float, amount: float) -> bool:
    """|fee| within MAX_FEE_RATE of price x amount (NaN fails: the caller decides what unknown is)."""
    return abs(fee) <= MAX_FEE_RATE * price * amount


def position_ok(position: float) -> bool:
    """|position| <= MAX_AMOUNT (NaN fails)."""
    return abs(position) <= MAX_AMOUNT
