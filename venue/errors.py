"""Exceptions at the venue boundary: RPC errors, timeouts, a lost connection."""
from __future__ import annotations


class ThalexError(Exception):
    """The exchange answered a request with ``{"error": {"code", "message"}}``."""

    def __init__(self, code: int, message: str, method: str):
        super().__init__(f"{method}: Thalex error {code}: {message}")
        self.code = code
        self.message = message
        self.method = method


class ThalexTimeout(TimeoutError):
    """No reply to request ``request_id`` (``method``) within ``timeout_s`` seconds."""

    def __init__(self, method: str, request_id: int, timeout_s: float):
        super().__init__(f"{method} (id {request_id}): no reply within {timeout_s:g} s")
        self.method = method
        self.request_id = request_id
        self.timeout_s = timeout_s


class ThalexConnectionError(ConnectionError):
    """The websocket is closed or broken; the owner reconnects (a new ThalexClient)."""


class SubscriptionError(ThalexError):
    """A subscribe call succeeded (as it always does) but left out channels we cannot run without."""

    def __init__(self, method: str, missing: list[str], answer: str):
        message = (f"required channel(s) {', '.join(missing)} not subscribed: the exchange answered "
                   f"{answer} (check the instrument names and the login)")
        Exception.__init__(self, f"{method}: {message}")
        self.code, self.message, self.method = 0, message, method
        self.missing = list(missing)
