"""Risk's side of the gate (shm/gate.py): limits, positions, marks and the trading state for the
gateway's pre-trade checks, with a heartbeat.

Written after every pass that booked an execution, took a mark or changed the state, and at
least every shm.gate.HEARTBEAT_NS otherwise, so that a gateway seeing no write for
gateway.risk_timeout_s knows risk is dead or stuck. The limits and the instruments' amount ticks
are written once into the record kept here; each write copies it whole (a seqlock: the gateway
never sees a position without the exec sequence it was booked through).
"""
from __future__ import annotations

import numpy as np

from shm import records as R
from shm.gate import GATE_DTYPE, HEARTBEAT_NS
from shm.state import HALTED


class GatePublisher:
    def __init__(self, record, instruments, risk_conf):
        """``record``: the attached gate SeqlockRecord; ``risk_conf``: the [risk] section."""
        self.record = record
        self.n = len(instruments)
        r = self.rec = np.zeros(1, GATE_DTYPE)
        r["n_instruments"] = self.n
        r["max_position"], r["max_notional"] = risk_conf.max_position, risk_conf.max_notional
        r["max_order_size"], r["price_band_bps"] = risk_conf.max_order_size, risk_conf.price_band_bps
        r["amount_tick"][0][:self.n] = [i.amount_tick for i in instruments]
        r["min_amount"][0][:self.n] = [i.min_amount for i in instruments]
        self.position = r["position"][0]    # views into the record
        self.mark = r["mark"][0]
        self.next_ns = 0
        self.writes = 0

    def publish(self, now_ns: int, changed: bool, exec_booked: int, trading_state: int, positions,
                marks) -> None:
        """Write the record if ``changed`` or the heartbeat is due (``now_ns`` monotonic)."""
        if not changed and now_ns < self.next_ns:
            return
        r = self.rec
        r["heartbeat_ns"], r["exec_booked"] = now_ns, exec_booked
        r["trading_state"] = trading_state
        r["block"] = R.RISK_HALTED if trading_state == HALTED else 0
        self.position[:self.n] = positions
        self.mark[:self.n] = marks
        self.record.write(r)
        self.writes += 1
        self.next_ns = now_ns + HEARTBEAT_NS
