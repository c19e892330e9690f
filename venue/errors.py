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
