"""The risk process's exits, as records for the gateway on ``orders``.

- Flatten (the operator's command): a QUOTE_FLATTEN per instrument with a position of at least
  its min_amount, the gateway sends a reduce-only market order for it.
- Take-profit: a QUOTE_TP holding one reduce-only limit at the average entry +/- the distance
  (rounded away from the entry to the tick), resized whenever the position changes; an empty
  QUOTE_TP cancels the resting one (flat, or HALTED).
- Stop-loss: once the mark crosses the entry -/+ its distance, a QUOTE_FLATTEN for the position,
  once per position (the local exchange has no conditional orders, so the stop is held here;
  Thalex's create_conditional_order would hold it on the exchange).
Prices and distances USD, amounts contracts.
"""
from __future__ import annotations

import logging
import math
import time

import numpy as np

from shm import records as R

log = logging.getLogger("risk")


class Exits:
    def __init__(self, instruments, take_profit_distance: float, stop_loss_distance: float, send):
        """
        instruments           our Instrument list (id = index): ticks and min amounts
        take_profit_distance  USD from the average entry, 0 = off
        stop_loss_distance    USD from the average entry, 0 = off
        send                  send(iid, q, key): put a record on ``orders`` (or queue it under key)
        """
        self.instruments, self.send = instruments, send
        self.take_profit_distance, self.stop_loss_distance = take_profit_distance, stop_loss_distance
        self.tp_sent: dict[int, tuple[float, float]] = {}   # instrument -> (price, amount) last sent
        self.sl_fired: dict[int, float] = {}                # instrument -> position it closed

    @property
    def enabled(self) -> bool:
        return bool(self.take_profit_distance or self.stop_loss_distance)

    def update(self, book, marks, halted: bool) -> None:
        """Take-profit and stop-loss for the book's positions (``marks`` USD per instrument)."""
        tp_distance, sl_distance = self.take_profit_distance, self.stop_loss_distance
        for inst in self.instruments:
            iid, pos = inst.id, book.position[inst.id]
            avg, mark = book.average(iid), marks[iid]
            desired = (0.0, 0.0)
            if tp_distance and abs(pos) >= inst.min_amount and not halted:
                raw = avg + tp_distance if pos > 0 else avg - tp_distance
                price = (math.ceil(raw / inst.tick_size - 1e-9) if pos > 0
                         else math.floor(raw / inst.tick_size + 1e-9)) * inst.tick_size
                desired = (price, round(abs(pos) / inst.amount_tick) * inst.amount_tick)
            if desired != self.tp_sent.get(iid, (0.0, 0.0)):
                self.tp_sent[iid] = desired
                q = np.zeros(1, R.QUOTE_DTYPE)
                q["type"], q["instrument_id"], q["created_ts_ns"] = R.QUOTE_TP, iid, time.monotonic_ns()
                if desired[1] > 0:
                    side = ("n_asks", "ask_price", "ask_amount") if pos > 0 else ("n_bids", "bid_price", "bid_amount")
                    q[side[0]], q[side[1]][0][0], q[side[2]][0][0] = 1, desired[0], desired[1]
                self.send(iid, q, ("tp", iid))
            if sl_distance and abs(pos) >= inst.min_amount and mark > 0:
                crossed = mark <= avg - sl_distance if pos > 0 else mark >= avg + sl_distance
                if crossed and self.sl_fired.get(iid) != pos:
                    self.sl_fired[iid] = pos
                    log.warning("%s: stop-loss: mark %.2f crossed entry %.2f -/+ %.2f: closing %+.6f",
                                inst.name, mark, avg, sl_distance, pos)
                    self.close(inst, pos, mark)

    def flatten(self, book, marks) -> None:
        for inst in self.instruments:
            pos = book.position[inst.id]
            if abs(pos) < inst.min_amount:
                continue
            log.warning("%s: flattening %+.6f contracts reduce-only", inst.name, pos)
            self.close(inst, pos, marks[inst.id])

    def close(self, inst, pos: float, mark: float) -> None:
        """A reduce-only market order for ``pos`` contracts (flatten and stop-loss)."""
        q = np.zeros(1, R.QUOTE_DTYPE)
        q["type"], q["instrument_id"], q["created_ts_ns"] = R.QUOTE_FLATTEN, inst.id, time.monotonic_ns()
        q["inventory"], q["mid"] = pos, mark
        if pos > 0:
            q["n_asks"], q["ask_amount"][0][0] = 1, pos
        else:
            q["n_bids"], q["bid_amount"][0][0] = 1, -pos
        # A close must not be superseded by a later ladder: it goes out now or waits first.
        self.send(inst.id, q, ("flatten", inst.id))
