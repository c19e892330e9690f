"""Channel names: parsing and validation (THALEX_API.md section 4).

A parsed channel is a ``Channel`` with its kind, arguments and per-subscription state (last send
time for rate-limited feeds, last book levels sent, trades pending for the book feed). ``parse``
refuses an unknown or malformed name with an ApiError naming the channel and what is wrong; the
subscribe methods then leave that name out of their result (the spec: subscribe succeeds even when
no channel was valid) rather than failing the call.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ApiError, INVALID_REQUEST

DELAYS = {"raw": 0.0, "100ms": 0.1, "200ms": 0.2, "500ms": 0.5, "1000ms": 1.0, "5000ms": 5.0,
          "60000ms": 60.0}
PRIVATE = {"session.orders", "account.orders", "account.persistent_orders", "account.portfolio",
           "account.trade_history", "account.summary", "session.mm_protection",
           "account.conditional_orders"}
# Accepted so that clients written for the real exchange can subscribe; the simulator never has
# anything to publish on them (no RFQs, bots, banners or maintenance).
SILENT_PUBLIC = {"system", "banners", "rfqs"}
SILENT_PRIVATE = {"account.bots", "mm.rfqs", "mm.rfq_quotes",
                  "account.rfqs", "account.rfq_history", "account.order_history",
                  "user.inbox_notifications"}


@dataclass
class Channel:
    name: str
    kind: str                     # ticker | lwt | book | recent_trades | price_index | instruments |
                                  # silent | one of PRIVATE
    target: str | None = None     # instrument or underlying
    delay_s: float = 0.0
    grouping: float | None = None
    depth: int | None = None
    category: str | None = None
    last_sent: float = 0.0
    book_state: tuple = ({}, {})
    pending_trades: list = field(default_factory=list)
    sent_marks: dict = field(default_factory=dict)   # account.portfolio: instrument -> mark sent
    private: bool = False


def _fail(name: str, why: str) -> ApiError:
    return ApiError(INVALID_REQUEST, f"channel {name!r}: {why}")


def _delay(name: str, text: str) -> float:
    if text not in DELAYS:
        raise _fail(name, f"delay {text!r} is not one of {', '.join(DELAYS)}")
    return DELAYS[text]


def parse(name: str, instruments: dict, underlyings: set[str]) -> Channel:
    """The Channel for ``name`` or ApiError(6) saying what is wrong with it."""
    if name in PRIVATE:
        return Channel(name, name, private=True)
    if name in SILENT_PRIVATE:
        return Channel(name, "silent", private=True)
    if name in SILENT_PUBLIC:
        return Channel(name, "silent")
    if name == "instruments":
        return Channel(name, "instruments")
    parts = name.split(".")
    kind = parts[0]

    def instrument(text):
        if text not in instruments:
            raise _fail(name, f"unknown instrument {text!r} (listed: {', '.join(instruments)})")
        return text

    if kind in ("ticker", "lwt") and len(parts) == 3:
        return Channel(name, kind, instrument(parts[1]), _delay(name, parts[2]))
    if kind == "book" and len(parts) == 5:
        grouping = None
        if parts[2] != "none":
            try:
                grouping = float(parts[2])
            except ValueError:
                raise _fail(name, f"grouping {parts[2]!r}: expected 'none' or a USD bucket") from None
            if grouping <= 0:
                raise _fail(name, f"grouping {parts[2]!r}: expected a bucket > 0")
        depth = None
        if parts[3] != "all":
            if not parts[3].isdigit() or int(parts[3]) == 0:
                raise _fail(name, f"levels {parts[3]!r}: expected a positive number or 'all'")
            depth = int(parts[3])
        return Channel(name, "book", instrument(parts[1]), _delay(name, parts[4]), grouping, depth)
    if kind == "price_index" and len(parts) == 2:
        if parts[1] not in underlyings:
            raise _fail(name, f"unknown underlying {parts[1]!r} (known: {', '.join(sorted(underlyings))})")
        return Channel(name, "price_index", parts[1])
    if kind == "recent_trades" and len(parts) == 3:
        target, category = parts[1], parts[2]
        if target in instruments and category in ("single", "all"):
            return Channel(name, "recent_trades", target, category=category)
        if target in underlyings and category in ("all", "options", "future_rolls"):
            return Channel(name, "recent_trades", target, category=category)
        raise _fail(name, "expected recent_trades.<instrument>.single|all or "
                          "recent_trades.<underlying>.all|options|future_rolls")
    raise _fail(name, "unknown channel")


def trade_matches(channel: Channel, instrument_name: str, underlying: str) -> bool:
    """Does a trade on ``instrument_name`` belong on this recent_trades channel?"""
    if channel.target == instrument_name:
        return True
    # options/future_rolls categories never match: the simulator lists neither.
    return channel.target == underlying and channel.category == "all"
