"""Whether risk's book is known to agree with the exchange's, and asking the gateway when not.

Risk is *unreconciled* after it starts, after it missed executions (a lap of ``exec``), and after
it refused an execution (procs/risk/validate.py). While unreconciled it approves nothing: every
ladder leaves as a PULL (RISK_RECONCILING) and resting quotes are pulled when it becomes so.

It asks by incrementing ``reconcile_request_seq`` in the shared state (risk is its only writer)
with ``replay_since_ns`` beside it. The gateway answers on ``exec`` (procs/gateway/replay.py):
the exchange's trades since then, its positions, and an EXEC_RECONCILED record whose ``seq`` is
the request it answers. The marker of the newest request makes risk reconciled again. Requests
come at most every ``min_interval_s``; one asked for sooner waits and is sent then (a burst of
bad executions costs one replay, not one each).

``replay_since_ns``: the exchange time of the newest trade risk booked, less REPLAY_MARGIN_NS
(session.orders and the trade history report a trade at different moments, and trades are not
always reported in time order); 0, "the whole history", while risk has booked nothing, so that
a fresh book (a new run on an account that traded before) takes in every trade of the account.
"""
from __future__ import annotations

import logging
import time

log = logging.getLogger("risk")
REPLAY_MARGIN_NS = 300 * 1_000_000_000


class Reconciliation:
    def __init__(self, state, ring_gateway, min_interval_s: float = 1.0):
        """``state``: the SharedState; ``ring_gateway()`` wakes the gateway."""
        self.state, self.ring_gateway, self.min_interval_s = state, ring_gateway, min_interval_s
        self.reconciled = False
        self.wanted = 0            # the request whose marker makes the book reconciled
        self.due = False           # a request waits for the interval to pass
        self.requests = 0
        self.newest_trade_ns = 0   # exchange time of the newest trade booked, Unix ns
        self._last_s = float("-inf")

    def request(self, why: str) -> bool:
        """Ask the gateway to reconcile (now, or when the interval allows); True when this made
        the book unreconciled (the caller pulls what rests)."""
        became = self.reconciled
        if became:
            log.warning("reconciling with the exchange (%s): approving nothing until the gateway "
                        "has replayed the exchange's trades and positions", why)
        self.reconciled = False
        self.due = True
        self.poll()
        return became

    def poll(self) -> None:
        """Send a waiting request once the interval has passed (called every pass)."""
        if not self.due:
            return
        now = time.monotonic()
        if now - self._last_s < self.min_interval_s:
            return
        self.publish_since()
        self.wanted = self.state.bump("reconcile_request_seq")
        self.due, self._last_s = False, now
        self.requests += 1
        self.ring_gateway()

    def on_marker(self, seq: int) -> bool:
        """An EXEC_RECONCILED marker answering request ``seq``; True when the book is now known
        to agree (the newest request is answered and none waits)."""
        if self.due or seq < self.wanted:
            return False
        if not self.reconciled:
            log.info("reconciled with the exchange (request %d)", seq)
        self.reconciled = True
        return True

    def booked_trade(self, exchange_ts_ns: int) -> None:
        """A fill or trade report was booked at exchange time ``exchange_ts_ns`` (Unix ns)."""
        if exchange_ts_ns > self.newest_trade_ns:
            self.newest_trade_ns = exchange_ts_ns
            self.publish_since()

    def publish_since(self) -> None:
        since = max(0, self.newest_trade_ns - REPLAY_MARGIN_NS) if self.newest_trade_ns else 0
        self.state.set("replay_since_ns", since)
