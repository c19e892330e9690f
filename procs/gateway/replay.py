"""Reconciliation's replay: the exchange's trades and positions onto ``exec``, closed by a marker.

A replay is asked for on every (re)connect (session.py), by risk (``reconcile_request_seq`` in
the shared state: it restarted, missed executions or refused one) and when the gateway could not
read an execution (executions.py). It

1. reads the request sequence it answers and risk's ``replay_since_ns`` (procs/risk/reconcile.py),
2. fetches the trade history from that time on, oldest first, page by page (blocking calls),
3. publishes each trade as an EXEC_TRADE record, never more than half the ring ahead of risk's
   cursor (``exec_booked_seq``): a replay of thousands of trades must not lap the one reader
   that may miss nothing (no pacing before risk has published a cursor),
4. once every trade is out, fetches the positions (private/portfolio) and publishes them as
   EXEC_POSITION records, then EXEC_RECONCILED with the request sequence: everything the
   exchange said in this reconciliation is on the ring before the marker.

Risk books each trade once (by trade id and side), so replaying trades it has is harmless. A
request arriving during a replay is answered by another replay right after (its history must
start after the request). A history or portfolio that cannot be read ends the replay without a
marker and is tried again after RETRY_S: risk keeps approving nothing meanwhile.
"""
from __future__ import annotations

import logging
import time
from collections import deque

from venue.decode.account import portfolio_positions
from venue.errors import ThalexError

log = logging.getLogger("gateway")
PAGE = 1000            # trades per private/trade_history call (the spec's maximum)
MAX_PAGES = 500        # 500k trades: beyond, the replay is cut (logged) and positions still adopted
PER_STEP = 256         # records published per gateway pass, so orders keep flowing
RETRY_S = 2.0


class Replay:
    def __init__(self, instruments, executions, state, exec_ring, on_done=None):
        """
        instruments  our Instrument list (names for the portfolio)
        executions   Executions: publishes trades, positions and the marker onto ``exec``
        state        SharedState (reconcile_request_seq, replay_since_ns, exec_booked_seq)
        exec_ring    the ``exec`` writer (its tail and capacity pace the replay)
        on_done      on_done(): called after the marker of a replay that held quoting back
        """
        self.instruments, self.executions, self.state, self.exec_ring = instruments, executions, state, exec_ring
        self.on_done = on_done
        self.trades: deque = deque()
        self.active = False
        self.holds_quoting = False   # a gateway-started replay: nothing is sent until its marker
        self.again = False           # a request arrived during this replay
        self.answering = 0           # the request sequence this replay answers
        self.retry_at_s = 0.0
        self.replays = self.failures = 0

    def request(self, client, hold_quoting: bool) -> int:
        """Start a replay (or, during one, another right after it); returns records published."""
        self.holds_quoting |= hold_quoting
        if self.active:
            self.again = True
            return 0
        return self._start(client)

    def _start(self, client) -> int:
        self.answering = int(self.state.get("reconcile_request_seq"))
        since_ns = int(self.state.get("replay_since_ns"))
        try:
            trades = self._history(client, since_ns)
        except (ValueError, ThalexError, TimeoutError) as exc:   # a lost connection propagates
            return self._failed(f"trade history: {exc}")
        self.trades = deque(trades)
        self.active, self.again = True, False
        self.replays += 1
        log.info("reconciling: replaying %d trades since %s, then positions (request %d)", len(trades),
                 time.strftime("%H:%M:%S", time.gmtime(since_ns / 1e9)) if since_ns else "the start",
                 self.answering)
        return self.step(client)

    def _history(self, client, since_ns: int) -> list:
        trades, bookmark = [], None
        for _ in range(MAX_PAGES):
            # time_low: whole Unix seconds (the spec's int64); without it Thalex returns 90 days only
            page = client.trade_history(limit=PAGE, time_low=since_ns // 1_000_000_000,
                                        sort="ascending", bookmark=bookmark)
            if type(page) is not dict or type(page.get("trades")) is not list:
                raise ValueError(f"private/trade_history result {page!r:.100}: expected "
                                 "{\"trades\": [...], \"bookmark\": ...}")
            trades += page["trades"]
            bookmark = page.get("bookmark")
            if not bookmark or not page["trades"]:
                return trades
            if type(bookmark) is not str:
                raise ValueError(f"bookmark={bookmark!r:.60}: expected a string")
        log.error("trade history longer than %d trades: replaying the first %d only", PAGE * MAX_PAGES, len(trades))
        return trades

    def room(self) -> int:
        """Records that may go out now without running more than half the ring ahead of risk."""
        booked = int(self.state.get("exec_booked_seq"))
        if booked == 0:
            return PER_STEP          # no risk cursor yet: nobody to lap
        ahead = int(self.exec_ring.tail) - (booked - 1)
        return max(0, min(PER_STEP, self.exec_ring.capacity // 2 - ahead))

    def step(self, client) -> int:
        """Publish what risk has room for; positions and the marker once every trade is out."""
        if not self.active:
            return 0
        n = min(self.room(), len(self.trades))
        if n:
            self.executions.publish_trades([self.trades.popleft() for _ in range(n)])
        if self.trades:
            return n
        try:
            held = portfolio_positions(client.portfolio(), [i.name for i in self.instruments])
        except (ValueError, ThalexError, TimeoutError) as exc:
            return n + self._failed(f"portfolio: {exc}")
        self.executions.publish_positions(held)
        self.executions.publish_marker(self.answering)
        self.active = False
        if self.holds_quoting and not self.again:
            self.holds_quoting = False
            if self.on_done is not None:
                self.on_done()
        if self.again:
            return n + 1 + self._start(client)
        return n + 1

    def _failed(self, why: str) -> int:
        self.failures += 1
        self.active, self.trades = False, deque()
        self.retry_at_s = time.monotonic() + RETRY_S
        self.again = True   # tried again (``due``)
        log.error("reconciliation failed (%s): retrying in %.0fs; risk approves nothing meanwhile",
                  why, RETRY_S)
        return 0

    @property
    def due(self) -> bool:
        """A failed replay waits to be tried again."""
        return not self.active and self.again and time.monotonic() >= self.retry_at_s

    def retry(self, client) -> int:
        self.again = False
        return self._start(client)

