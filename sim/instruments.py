"""The listed instruments: contract specs (THALEX_API.md section 7) and tick arithmetic.

Prices and amounts are plain floats on the wire; inside the exchange a price is an integer number
of ticks (``to_ticks``), so book levels are exact dictionary keys. Incoming numbers are rounded to
8 decimal digits before any tick check, as Thalex does.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

_EPS = 1e-9


def round8(x: float) -> float:
    """``x`` rounded to 8 decimal digits (the exchange's input precision)."""
    return round(float(x), 8)


@dataclass(frozen=True)
class Instrument:
    """One tradable contract. Prices in USD per coin, amounts in coins (contracts)."""

    instrument_name: str
    product: str            # MMP group product, e.g. FBTCUSD
    underlying: str         # index name, e.g. BTCUSD
    type: str               # perpetual | future
    tick_size: float        # USD
    volume_tick_size: float  # coins
    min_order_amount: float  # coins
    start_price: float      # USD, where the simulated index starts
    expiry_date: str | None = None
    expiration_timestamp: int | None = None
    create_time: float = field(default=1_700_000_000.0)

    def to_ticks(self, price: float) -> int:
        """The integer tick count nearest to ``price``."""
        return int(round(round8(price) / self.tick_size))

    def from_ticks(self, ticks: int) -> float:
        return round8(ticks * self.tick_size)

    def price_on_tick(self, price: float) -> bool:
        p = round8(price)
        return abs(p / self.tick_size - round(p / self.tick_size)) < 1e-6

    def amount_on_tick(self, amount: float) -> bool:
        a = round8(amount)
        return abs(a / self.volume_tick_size - round(a / self.volume_tick_size)) < 1e-6

    def round_amount(self, amount: float) -> float:
        """``amount`` rounded down to the volume tick (never up: the caller cannot exceed it)."""
        steps = int(round8(amount) / self.volume_tick_size + _EPS)
        return round8(steps * self.volume_tick_size)

    def to_dict(self) -> dict:
        """The Instrument object of public/instruments (fields of other types omitted)."""
        d = {
            "instrument_name": self.instrument_name,
            "product": self.product,
            "tick_size": self.tick_size,
            "volume_tick_size": self.volume_tick_size,
            "min_order_amount": self.min_order_amount,
            "underlying": self.underlying,
            "type": self.type,
            "base_currency": "USD",
            "create_time": self.create_time,
        }
        if self.expiry_date is not None:
            d["expiry_date"] = self.expiry_date
            d["expiration_timestamp"] = self.expiration_timestamp
        return d


def next_quarterly_expiry(now: dt.datetime, min_days: int = 7) -> dt.datetime:
    """08:00 UTC on the last Friday of the next March/June/September/December month that is
    at least ``min_days`` away (Thalex's quarterly futures expire then)."""
    year, month = now.year, now.month
    while True:
        if month % 3 == 0:
            last_day = calendar.monthrange(year, month)[1]
            day = max(d for d in range(last_day - 6, last_day + 1)
                      if dt.date(year, month, d).weekday() == calendar.FRIDAY)
            expiry = dt.datetime(year, month, day, 8, 0, tzinfo=dt.timezone.utc)
            if expiry - now >= dt.timedelta(days=min_days):
                return expiry
        month += 1
        if month > 12:
            year, month = year + 1, 1


def future_name(underlying_coin: str, expiry: dt.datetime) -> str:
    """E.g. ``BTC-25DEC26``."""
    return f"{underlying_coin}-{expiry.day:02d}{expiry.strftime('%b').upper()}{expiry.strftime('%y')}"


def default_instruments(now: dt.datetime | None = None) -> dict[str, Instrument]:
    """BTC and ETH perpetuals plus one dated BTC future, keyed by name."""
    now = now or dt.datetime.now(dt.timezone.utc)
    expiry = next_quarterly_expiry(now)
    listed = [
        Instrument("BTC-PERPETUAL", "FBTCUSD", "BTCUSD", "perpetual", 1.0, 0.001, 0.001, 100_000.0),
        Instrument("ETH-PERPETUAL", "FETHUSD", "ETHUSD", "perpetual", 0.1, 0.01, 0.01, 3_500.0),
        Instrument(future_name("BTC", expiry), "FBTCUSD", "BTCUSD", "future", 1.0, 0.001, 0.001,
                   100_000.0, expiry_date=expiry.date().isoformat(),
                   expiration_timestamp=int(expiry.timestamp())),
    ]
    return {i.instrument_name: i for i in listed}


def products(instruments: dict[str, Instrument]) -> set[str]:
    """The product names (MMP groups) that exist: F<underlying> per futures underlying, and
    O<underlying> accepted for options even though none are listed."""
    out = {i.product for i in instruments.values()}
    out |= {"O" + i.underlying for i in instruments.values()}
    return out
