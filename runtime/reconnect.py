"""The one reconnect policy: exponential backoff between attempts, reset by a success.

The feed (public websocket) and the gateway (private websocket) both use it, configured once by
[venue] ``reconnect_min_s`` and ``reconnect_max_s``. After a lost connection the first attempt
waits ``min_s``; every failed attempt doubles the wait, up to ``max_s``; a connection that
succeeds starts the next loss from ``min_s`` again. There is no jitter: we are one client per
connection, not a herd, and a deterministic schedule is one the tests and the logs can state.
"""
from __future__ import annotations


class ReconnectPolicy:
    """Waits (seconds) before each reconnect attempt: min_s, 2 min_s, 4 min_s ... capped at max_s."""

    __slots__ = ("min_s", "max_s", "_next_s", "attempts")

    def __init__(self, min_s: float, max_s: float):
        if not 0.0 < min_s <= max_s:
            raise ValueError(f"reconnect_min_s={min_s}, reconnect_max_s={max_s}: expected 0 < min <= max")
        self.min_s, self.max_s = float(min_s), float(max_s)
        self._next_s = self.min_s
        self.attempts = 0          # attempts scheduled since the last success

    def next_delay_s(self) -> float:
        """The wait before the next attempt (after a loss or a failed attempt); doubles the one after."""
        delay = self._next_s
        self._next_s = min(self._next_s * 2.0, self.max_s)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """A connection succeeded: the next loss waits ``min_s`` again."""
        self._next_s = self.min_s
        self.attempts = 0

    @classmethod
    def from_config(cls, venue) -> "ReconnectPolicy":
        """From a [venue] section (conf.schema.Venue): the one place its reconnect numbers are read."""
        return cls(venue.reconnect_min_s, venue.reconnect_max_s)
