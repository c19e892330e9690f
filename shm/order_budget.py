"""The gateway's matching-engine message budget, in the shared state, for the quoter to spend.

Thalex allows 50 matching-engine messages a second on a non-persistent session (10 on a
persistent one); the gateway paces every ladder with a token bucket (venue/ratelimit.py). A
quoter that republishes faster than that only queues ladders behind the bucket, so that in the
fast moments our resting quotes are the old ones. So the gateway publishes its order bucket and
the quoter reads it before each ladder: while the budget is low it quotes with a wider requote
tolerance (quoter.budget_tolerance_factor while less than quoter.budget_low_fraction of the
bucket is left), spending the tokens left on the changes that matter.

Fields of shm/state.py, one writer (the gateway), written when it sent, when a cooldown starts and
at least every millisecond (five stores):

    order_tokens             tokens in the order bucket at ``order_tokens_ns``
    order_tokens_ns          time.monotonic_ns() of that figure
    order_rate, order_burst  the bucket's refill (tokens/s) and size (tokens); rate 0 = unknown
    order_cooldown_until_ns  a throttle cooldown (error code 4) holds every order until then

The reader extrapolates: tokens now = min(burst, tokens + rate x elapsed), 0 in a cooldown. A
reader that sees a half-written set (8-byte stores are atomic, the set is not) is off by one
refill for one ladder: harmless for a tolerance choice, so no seqlock.
"""
from __future__ import annotations

NS_PER_S = 1e9


class BudgetWriter:
    """The gateway's side: ``publish(limits, now_ns)`` once a pass."""

    def __init__(self, state):
        t = state.table
        self._tokens, self._at = t["order_tokens"], t["order_tokens_ns"]
        self._rate, self._burst = t["order_rate"], t["order_burst"]
        self._cooldown = t["order_cooldown_until_ns"]

    def publish(self, limits, now_ns: int) -> None:
        """``limits``: venue.ratelimit.ThalexLimits (its bucket refilled to ``now_ns`` first)."""
        bucket = limits.orders
        bucket.wait_ns(now_ns)                     # refills to now
        self._tokens[0] = bucket.tokens
        self._at[0] = now_ns
        self._rate[0] = bucket.rate_per_s
        self._burst[0] = bucket.burst
        self._cooldown[0] = limits.cooldown_until_ns


class BudgetReader:
    """The quoter's side: ``fraction(now_ns)``, the share of the order bucket the gateway has left
    now (``None`` until the gateway has published: no budget known, nothing is held back), and
    ``tokens(now_ns)``, the same in messages."""

    def __init__(self, state):
        t = state.table
        self._tokens, self._at = t["order_tokens"], t["order_tokens_ns"]
        self._rate, self._burst = t["order_rate"], t["order_burst"]
        self._cooldown = t["order_cooldown_until_ns"]

    def tokens(self, now_ns: int) -> float | None:
        rate = float(self._rate[0])
        if rate <= 0.0:
            return None
        if now_ns < int(self._cooldown[0]):
            return 0.0
        tokens = float(self._tokens[0]) + rate * (now_ns - int(self._at[0])) / NS_PER_S
        burst = float(self._burst[0])
        return tokens if tokens < burst else burst

    def fraction(self, now_ns: int) -> float | None:
        tokens = self.tokens(now_ns)
        return None if tokens is None else tokens / float(self._burst[0])
