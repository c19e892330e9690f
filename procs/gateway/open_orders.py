"""What of ours may still fill: orders resting on the exchange and ladders sent but unanswered.

Risk counts both against max_position (procs/risk/limits.py), so the gateway publishes their sum
per instrument and side in the shared state (``open_bid`` / ``open_ask``, contracts), and
``quoting`` while anything of ours rests on the exchange.

- ``live``: order id -> (instrument id, side +1/-1, remaining contracts), following the
  session.orders updates (an ack or amend with something left, a partial fill, a fill or cancel
  that closes the order). An ack or amend of an order already closed (a frame delivered twice or
  out of order) does not bring it back: the last CLOSED_KEPT closed order ids are remembered.
- ``inflight``: instrument id -> (bid, ask) contracts of a mass_quote sent and not answered yet:
  until the exchange answers, the new ladder may be live beside fills of the old one.
"""
from __future__ import annotations

from collections import deque

from shm import records as R

CLOSED_KEPT = 4096


class OpenOrders:
    def __init__(self, n_instruments: int, state):
        """``state``: the pipeline's SharedState (the gateway writes open_bid, open_ask, quoting)."""
        self.n_instruments, self.state = n_instruments, state
        self.live: dict[int, tuple[int, int, float]] = {}
        self.inflight: dict[int, tuple[float, float]] = {}
        self.closed: set[int] = set()
        self._closed_order: deque[int] = deque()
        self.stale = 0     # updates of orders already closed, ignored
        self.bid = [0.0] * n_instruments    # the sums ``publish`` wrote last (contracts)
        self.ask = [0.0] * n_instruments

    def on_exec(self, e) -> None:
        """Follow one EXEC record decoded from session.orders."""
        oid, kind = int(e["order_id"]), int(e["type"])
        if kind in (R.EXEC_ACK, R.EXEC_AMEND):
            if oid in self.closed:
                self.stale += 1
            elif e["remaining"] > 0:
                self.live[oid] = (int(e["instrument_id"]), int(e["side"]), float(e["remaining"]))
        elif kind == R.EXEC_FILL:
            if e["remaining"] > 0 and oid in self.live:
                self.live[oid] = (*self.live[oid][:2], float(e["remaining"]))
            elif e["remaining"] <= 0:
                self._close(oid)
        elif kind == R.EXEC_CANCEL:
            self._close(oid)

    def _close(self, oid: int) -> None:
        self.live.pop(oid, None)
        if oid not in self.closed:
            self.closed.add(oid)
            self._closed_order.append(oid)
            if len(self._closed_order) > CLOSED_KEPT:
                self.closed.discard(self._closed_order.popleft())

    def forget_all(self) -> None:
        """The connection is gone: the exchange cancels what rested (cancel-on-disconnect)."""
        self.live.clear()
        self.inflight.clear()

    def publish(self) -> None:
        """Open amounts per instrument and side, and ``quoting``, into the shared state."""
        bid = [0.0] * self.n_instruments
        ask = [0.0] * self.n_instruments
        for iid, side, remaining in self.live.values():
            (bid if side > 0 else ask)[iid] += remaining
        for iid, (b, a) in self.inflight.items():
            bid[iid] += b
            ask[iid] += a
        self.bid, self.ask = bid, ask
        s = self.state.table
        s["open_bid"][0][:len(bid)] = bid
        s["open_ask"][0][:len(ask)] = ask
        self.state.set("quoting", int(bool(self.live)))
