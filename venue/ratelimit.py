"""Thalex message-rate limits kept on our side, so the exchange never has to throttle us.

Thalex allows per connection (THALEX_API.md section 6): 10 matching-engine messages per second
(insert, amend, mass_quote...), 50 per second once the session is non-persistent
(``private/set_cancel_on_disconnect``), and 1000 cancels per second. "The limit is both burst and
sustained" and its exact window is not documented, so each bucket is sized to stay inside *any*
one-second window: a bucket of ``rate`` tokens/s and ``burst`` tokens lets through at most
``burst + rate * T`` messages in T seconds, and ``ThalexLimits`` picks ``burst + rate == limit``.

The rates themselves are configured once ([gateway] orders_per_s, orders_per_s_non_persistent,
cancels_per_s in conf/schema.py) and each must be at most the Thalex limit below: these constants
are the documented maxima that the configuration is checked against, nothing paces at them unless
configured to.

When the exchange still answers error code 4 (throttled) the order bucket goes into a cooldown
(``throttle_cooldown_s``) that doubles with every further code 4 and resets after an accepted
order, capped (``throttle_cooldown_max_s``). Cancels are never held back by the cooldown: pulling
quotes matters more than sparing one more error reply.

Every call takes the caller's ``now_ns`` (``time.monotonic_ns()``) so the hot path reads the clock
once, and tests drive time by hand. Nothing here allocates beyond Python's own number objects.
"""
from __future__ import annotations

NS_PER_S = 1_000_000_000

# Thalex's documented maxima (THALEX_API.md section 6), per connection:
ME_LIMIT_PERSISTENT = 10      # matching-engine messages/s on a persistent session
ME_LIMIT_NON_PERSISTENT = 50  # after set_cancel_on_disconnect
CANCEL_LIMIT = 1000           # cancel requests/s
THROTTLED = 4                 # Thalex error code: throttle exceeded


class TokenBucket:
    """``rate_per_s`` tokens per second, at most ``burst`` stored; one message = one token."""

    __slots__ = ("rate_per_s", "burst", "_tokens", "_last_ns", "_ns_per_token")

    def __init__(self, rate_per_s: float, burst: float, now_ns: int = 0):
        if not rate_per_s > 0:
            raise ValueError(f"rate_per_s={rate_per_s}: must be > 0")
        if not burst >= 1:
            raise ValueError(f"burst={burst}: must be >= 1 (one message needs one token)")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self._ns_per_token = NS_PER_S / self.rate_per_s
        self._tokens = self.burst
        self._last_ns = now_ns

    def _refill(self, now_ns: int) -> None:
        elapsed = now_ns - self._last_ns
        if elapsed > 0:  # a clock that steps back refills nothing rather than going negative
            tokens = self._tokens + elapsed / self._ns_per_token
            self._tokens = tokens if tokens < self.burst else self.burst
            self._last_ns = now_ns

    def try_take(self, now_ns: int) -> bool:
        """Take one token if there is one; False means: do not send now."""
        self._refill(now_ns)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_ns(self, now_ns: int) -> int:
        """Nanoseconds until ``try_take`` will succeed (0 if it would now)."""
        self._refill(now_ns)
        missing = 1.0 - self._tokens
        if missing <= 0.0:
            return 0
        return int(missing * self._ns_per_token) + 1

    def set_rate(self, rate_per_s: float, burst: float, now_ns: int) -> None:
        """Change the rate in place (tokens earned so far are kept, clipped to the new burst)."""
        self._refill(now_ns)
        if not rate_per_s > 0 or not burst >= 1:
            raise ValueError(f"rate_per_s={rate_per_s}, burst={burst}: expected rate > 0 and burst >= 1")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self._ns_per_token = NS_PER_S / self.rate_per_s
        if self._tokens > self.burst:
            self._tokens = self.burst

    @property
    def tokens(self) -> float:
        """Tokens stored at the last refill (for tests and status)."""
        return self._tokens


def split_limit(limit_per_s: float, burst_fraction: float) -> tuple[float, float]:
    """(rate, burst) with ``rate + burst == limit``: never more than ``limit`` in any 1 s window."""
    burst = max(1.0, round(limit_per_s * burst_fraction))
    return limit_per_s - burst, burst


class ThalexLimits:
    """The three Thalex buckets of one connection plus the throttle cooldown.

    ``try_order`` for matching-engine messages, ``try_cancel`` for cancels; ``on_throttled`` when
    a reply carries error code 4, ``on_accepted`` when an order message succeeded. Each rate is
    the most messages let through in any one second (messages/s), at most the Thalex maximum.
    """

    __slots__ = ("orders", "cancels", "burst_fraction", "non_persistent", "orders_per_s",
                 "orders_per_s_non_persistent", "cooldown_base_ns", "cooldown_cap_ns",
                 "_cooldown_until_ns", "_throttle_streak", "throttled_count")

    def __init__(self, now_ns: int = 0, *, orders_per_s: float, orders_per_s_non_persistent: float,
                 cancels_per_s: float, cooldown_base_s: float, cooldown_cap_s: float,
                 burst_fraction: float = 0.2):
        for name, rate, maximum in (("orders_per_s", orders_per_s, ME_LIMIT_PERSISTENT),
                                    ("orders_per_s_non_persistent", orders_per_s_non_persistent,
                                     ME_LIMIT_NON_PERSISTENT),
                                    ("cancels_per_s", cancels_per_s, CANCEL_LIMIT)):
            if not 1.0 < rate <= maximum:
                raise ValueError(f"{name}={rate}: expected more than 1 and at most {maximum} (the Thalex limit)")
        if not 0.0 < burst_fraction < 1.0:
            raise ValueError(f"burst_fraction={burst_fraction}: expected 0 < burst_fraction < 1")
        if not 0.0 < cooldown_base_s <= cooldown_cap_s:
            raise ValueError(f"cooldown_base_s={cooldown_base_s}, cooldown_cap_s={cooldown_cap_s}: "
                             "expected 0 < base <= cap")
        self.burst_fraction = burst_fraction
        self.orders_per_s = float(orders_per_s)
        self.orders_per_s_non_persistent = float(orders_per_s_non_persistent)
        self.orders = TokenBucket(*split_limit(self.orders_per_s, burst_fraction), now_ns)
        self.cancels = TokenBucket(*split_limit(float(cancels_per_s), burst_fraction), now_ns)
        self.non_persistent = False
        self.cooldown_base_ns = int(cooldown_base_s * NS_PER_S)
        self.cooldown_cap_ns = int(cooldown_cap_s * NS_PER_S)
        self._cooldown_until_ns = 0
        self._throttle_streak = 0
        self.throttled_count = 0

    @classmethod
    def from_config(cls, gateway, now_ns: int = 0) -> "ThalexLimits":
        """From a [gateway] section (conf.schema.Gateway): the one place its pacing numbers are read."""
        return cls(now_ns, orders_per_s=gateway.orders_per_s,
                   orders_per_s_non_persistent=gateway.orders_per_s_non_persistent,
                   cancels_per_s=gateway.cancels_per_s, cooldown_base_s=gateway.throttle_cooldown_s,
                   cooldown_cap_s=gateway.throttle_cooldown_max_s)

    # ---- session mode ---------------------------------------------------------------------
    def set_cancel_on_disconnect(self, now_ns: int, message_rate: float | None = None) -> None:
        """The session became non-persistent: orders move to the configured non-persistent rate.

        ``message_rate`` is what ``private/set_cancel_on_disconnect`` returned (50 on Thalex): the
        exchange's word caps ours when it is lower.
        """
        rate = self.orders_per_s_non_persistent
        # Exchange input: only a plain number between 1 and ours lowers it; anything else is ignored.
        if isinstance(message_rate, (int, float)) and not isinstance(message_rate, bool) \
                and 1.0 < message_rate < rate:
            rate = float(message_rate)
        self.orders.set_rate(*split_limit(rate, self.burst_fraction), now_ns)
        self.non_persistent = True

    def set_persistent(self, now_ns: int) -> None:
        """Back to the persistent rate (a new connection starts persistent)."""
        self.orders.set_rate(*split_limit(self.orders_per_s, self.burst_fraction), now_ns)
        self.non_persistent = False

    # ---- taking -----------------------------------------------------------------------------
    def try_order(self, now_ns: int) -> bool:
        """May one matching-engine message go now? (False during a throttle cooldown.)"""
        if now_ns < self._cooldown_until_ns:
            return False
        return self.orders.try_take(now_ns)

    def try_cancel(self, now_ns: int) -> bool:
        """May one cancel go now? Not subject to the cooldown (see module doc)."""
        return self.cancels.try_take(now_ns)

    def order_wait_ns(self, now_ns: int) -> int:
        """Nanoseconds until ``try_order`` can succeed."""
        cooldown = self._cooldown_until_ns - now_ns
        bucket = self.orders.wait_ns(now_ns)
        return cooldown if cooldown > bucket else bucket

    def cancel_wait_ns(self, now_ns: int) -> int:
        return self.cancels.wait_ns(now_ns)

    # ---- exchange feedback ------------------------------------------------------------------
    def on_throttled(self, now_ns: int) -> int:
        """The exchange answered code 4: hold orders for base * 2**streak ns (capped); returns it."""
        shift = self._throttle_streak if self._throttle_streak < 62 else 62
        cooldown = self.cooldown_base_ns << shift
        if cooldown > self.cooldown_cap_ns:
            cooldown = self.cooldown_cap_ns
        self._cooldown_until_ns = now_ns + cooldown
        self._throttle_streak += 1
        self.throttled_count += 1
        return cooldown

    def on_accepted(self) -> None:
        """An order message was accepted: the next code 4 starts again from the base cooldown."""
        self._throttle_streak = 0

    @property
    def cooldown_until_ns(self) -> int:
        """Orders are held until this monotonic time (0 = never was in a cooldown)."""
        return self._cooldown_until_ns

    def in_cooldown(self, now_ns: int) -> bool:
        return now_ns < self._cooldown_until_ns
