"""A session = one WebSocket connection: its login, persistence, ids, quotes and subscriptions."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from .ratelimit import RateLimiter

_ids = itertools.count(1)


@dataclass(eq=False)
class Session:
    """Per-connection state. ``cod_timeout_s`` is None while the session is persistent."""

    remote: str = "?"
    session_id: int = field(default_factory=lambda: next(_ids))
    account: object = None
    key_id: str | None = None
    persistent: bool = True
    cod_timeout_s: float | None = None
    last_activity: float = field(default_factory=time.monotonic)   # monotonic seconds
    by_cid: dict = field(default_factory=dict)       # client_order_id -> live Order
    orders: dict = field(default_factory=dict)       # order_id -> live Order inserted here
    quotes: dict = field(default_factory=dict)       # (instrument_name, side) -> {ticks: Order}
    mmp: dict = field(default_factory=dict)          # product -> ProtectionGroup
    subscriptions: dict = field(default_factory=dict)  # channel name -> per-channel state
    limiter: RateLimiter = field(default_factory=RateLimiter)
    closed: bool = False

    @property
    def logged_in(self) -> bool:
        return self.account is not None

    def touch(self) -> None:
        """Something arrived (a frame or a ping): the cancel-on-disconnect clock restarts."""
        self.last_activity = time.monotonic()

    def forget(self, order) -> None:
        """Drop a no-longer-live order from the session's id maps."""
        self.orders.pop(order.order_id, None)
        if order.client_order_id is not None and self.by_cid.get(order.client_order_id) is order:
            del self.by_cid[order.client_order_id]
