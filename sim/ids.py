"""Order and trade ids shaped like Thalex's: upper-case hex strings of a fixed width.

Thalex's order ids are 16 hex digits (``"001F39C500000000"``: a 32-bit prefix, then a 32-bit
count) and its trade ids 32 (``"0080000000000000169F22D05B785A2B"``: a constant high half, then
the trade time in ns). The local exchange issues the same shapes, so clients that fold ids into
something smaller, or read them as decimal numbers, fail here as they would on Thalex.
"""
from __future__ import annotations

import itertools

ORDER_ID_PREFIX = 0x001F39C5          # the high 32 bits of every order id (as in the spec's example)
TRADE_ID_HIGH = 0x0080000000000000    # the high 64 bits of every trade id (as in the spec's examples)


class IdMaker:
    """Fresh ids: each order id once, each trade id once, in increasing order."""

    def __init__(self):
        self._orders = itertools.count(1)
        self._last_trade_ns = 0

    def order_id(self) -> str:
        """The next order id: 16 hex digits."""
        return f"{(ORDER_ID_PREFIX << 32) | next(self._orders):016X}"

    def trade_id(self, now_s: float) -> str:
        """The next trade id at ``now_s`` (Unix seconds): 32 hex digits, its low half the time in
        ns, bumped by 1 ns past the previous one so two trades in one ns still differ."""
        self._last_trade_ns = max(int(now_s * 1e9), self._last_trade_ns + 1)
        return f"{TRADE_ID_HIGH:016X}{self._last_trade_ns & ((1 << 64) - 1):016X}"
