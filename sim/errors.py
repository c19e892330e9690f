"""Error codes of THALEX_API.md section 6 and the exception that carries one to the reply.

The numeric list is community-sourced (the Rust SDK's enumeration); only 1 (order not found) and
4 (throttled) are confirmed by the official examples. Messages are ours: each names the thing,
the value and what was expected.
"""
from __future__ import annotations

ORDER_NOT_FOUND = 1
DUPLICATE_ORDER_ID = 2
THROTTLED = 4
UNKNOWN_INSTRUMENT = 5
INVALID_REQUEST = 6
NOT_LOGGED_IN = 7
BAD_PRICE = 13
BAD_AMOUNT = 14
PRICE_NOT_ON_TICK = 15
UNKNOWN_PRODUCT = 17
AUTH_FAILED = 19
PROTECTION_NOT_SET = 23
INVALID_TIME_IN_FORCE = 25
UNKNOWN_METHOD = 31
COLLAR_BREACH = 43
QUOTE_EXCEEDS_PROTECTION = 44
PERSISTENT_SESSION = 52
REDUCE_ONLY = 57


class ApiError(Exception):
    """A request failed with a Thalex error code; becomes ``{"error": {"code", "message"}}``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
