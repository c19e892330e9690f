"""Per-connection message rate limits (THALEX_API.md section 6).

Matching-engine messages: 10/s, 50/s once the session is non-persistent; cancels 1000/s. Each is a
token bucket whose capacity equals one second of its rate (burst and sustained). An exceeded limit
answers error code 4; the exact Thalex algorithm is undocumented, this is the nearest reading.
"""
from __future__ import annotations

import time

PERSISTENT_RATE = 10.0
NON_PERSISTENT_RATE = 50.0
CANCEL_RATE = 1000.0

ORDER_METHODS = frozenset({"private/insert", "private/buy", "private/sell", "private/amend",
                           "private/mass_quote"})
CANCEL_METHODS = frozenset({"private/cancel", "private/cancel_all", "private/cancel_session",
                            "private/cancel_mass_quote"})


class TokenBucket:
    """``rate`` tokens per second, at most ``rate`` stored."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate = rate
        self.tokens = rate
        self.clock = clock
        self.stamp = clock()

    def refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """True if a message may pass now (one token spent), False if over the limit."""
        self.refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """The two buckets of one connection."""

    def __init__(self, clock=time.monotonic):
        self.orders = TokenBucket(PERSISTENT_RATE, clock)
        self.cancels = TokenBucket(CANCEL_RATE, clock)

    def make_non_persistent(self) -> int:
        """Raise the order rate; returns the new rate (the set_cancel_on_disconnect result)."""
        self.orders.refill()
        if self.orders.rate < NON_PERSISTENT_RATE:   # the larger bucket starts with its extra room
            self.orders.tokens += NON_PERSISTENT_RATE - self.orders.rate
        self.orders.rate = NON_PERSISTENT_RATE
        return int(NON_PERSISTENT_RATE)

    def allow(self, method: str) -> bool:
        if method in ORDER_METHODS:
            return self.orders.take()
        if method in CANCEL_METHODS:
            return self.cancels.take()
        return True
