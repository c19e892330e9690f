"""Risk's side of the gate (shm/gate.py): limits, positions, marks, the trading state, the
portfolio's figures and what blocks quoting, for the gateway's pre-trade checks, with a heartbeat.

Written after every pass that booked an execution, took a mark, changed the state or finished a
reconciliation, and at least every shm.gate.HEARTBEAT_NS otherwise, so that a gateway seeing no
write for gateway.risk_timeout_s knows risk is dead or stuck. The limits and the instruments'
amount ticks are written once into the record kept here; each write copies it whole (a seqlock:
the gateway never sees a position without the exec sequence it was booked through).
"""
from __future__ import annotations

import numpy as np

from shm import records as R
from shm.gate import GATE_DTYPE, HEARTBEAT_NS
from shm.state import HALTED


class GatePublisher:
    def __init__(self, record, instruments, limits, portfolio):
        """``record``: the attached gate SeqlockRecord; ``limits``: procs.risk.limits.Limits by
        instrument id; ``portfolio``: procs.risk.portfolio.Portfolio (its limits and membership)."""
        self.record = record
        self.n = n = len(instruments)
        r = self.rec = np.zeros(1, GATE_DTYPE)
        r["n_instruments"] = n
        for name in ("max_position", "max_notional", "max_order_size", "price_band_bps",
                     "amount_tick", "min_amount"):
            r[name][0][:n] = [getattr(lim, name) for lim in limits]
        r["max_net_delta_usd"] = portfolio.limits.max_net_delta_usd
        r["max_gross_usd"] = portfolio.limits.max_gross_notional_usd
        r["underlying"][0][:n] = portfolio.underlying_of
        self.position = r["position"][0]    # views into the record
        self.mark = r["mark"][0]
        self.net_delta = r["net_delta_usd"][0]
        self.next_ns = 0
        self.writes = 0

    def publish(self, now_ns: int, changed: bool, exec_booked: int, trading_state: int, positions,
                marks, reconciled: bool, portfolio) -> None:
        """Write the record if ``changed`` or the heartbeat is due (``now_ns`` monotonic)."""
        if not changed and now_ns < self.next_ns:
            return
        r = self.rec
        r["heartbeat_ns"], r["exec_booked"] = now_ns, exec_booked
        r["trading_state"] = trading_state
        r["block"] = (R.RISK_HALTED if trading_state == HALTED else 0) | (
            0 if reconciled else R.RISK_RECONCILING)
        self.position[:self.n] = positions
        self.mark[:self.n] = marks
        self.net_delta[:len(portfolio.net_delta)] = portfolio.net_delta
        r["gross_usd"] = portfolio.gross
        r["delta_band"] = sum(1 << iid for iid in range(self.n) if portfolio.reduces_delta(iid))
        self.record.write(r)
        self.writes += 1
        self.next_ns = now_ns + HEARTBEAT_NS
