"""The gateway's pre-trade checks: every ladder, right before it is sent, against the risk gate.

Ladders come from the quoter directly. Each QUOTE_SET passes kernels/pretrade.pyx at the moment
it is about to leave, against:

- the gate risk publishes (shm/gate.py): each instrument's limits, positions booked through an
  ``exec`` sequence, marks, the trading state (HALTED and an unfinished reconciliation block;
  REDUCING drops the side that grows the position, unless the instrument's underlying is beyond
  its net-delta band, where that delta decides the side);
- the portfolio limits (procs/risk/portfolio.py ``trim``: net delta per underlying, gross
  notional, counting the orders resting on every instrument), from the figures in the gate;
- the fills this gateway wrote on ``exec`` that risk has not booked yet (``ExecTap``): each may
  or may not be in the booked position already (the trade history can report a trade before
  session.orders does), so the bid side is checked with every unbooked buy added and the ask
  side with every unbooked sell taken off: conservative on both sides, and no check ever waits
  for risk to book anything;
- the open orders this gateway knows of (OpenOrders: resting plus sent and unanswered);
- ``paused`` in the shared state (the operator's flag) and the gate's heartbeat: no write from
  risk for ``risk_timeout_s`` (dead or stuck) blocks with RISK_GATE_STALE, as does a gate risk
  never wrote.

While anything blocks, a QUOTE_SET leaves as a PULL carrying the block's reason bits; PULLs (the
quoter's, fast cancels' pulled side, risk's on HALTED) need no approval and pass as they are.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from kernels.pretrade import pretrade_approve
from procs.risk.portfolio import Portfolio, PortfolioLimits
from shm import records as R
from shm.state import REDUCING


class ExecTap:
    """The ``exec`` writer, remembering each fill written (sequence, instrument, signed amount)
    until risk has booked that sequence. Everything else passes straight through."""

    def __init__(self, writer):
        self.writer = writer
        self.fills: deque[tuple[int, int, float]] = deque()

    def write(self, rec: np.ndarray) -> None:
        self._note(rec)
        self.writer.write(rec)

    def write_batch(self, recs: np.ndarray) -> None:
        self._note(recs)
        self.writer.write_batch(recs)

    def _note(self, recs: np.ndarray) -> None:
        fill = recs["type"] == R.EXEC_FILL
        if fill.any():
            tail = int(self.writer.tail)    # the sequence the first of ``recs`` is written at
            for i in np.flatnonzero(fill).tolist():
                e = recs[i]
                self.fills.append((tail + i, int(e["instrument_id"]), int(e["side"]) * float(e["amount"])))

    def unbooked(self, iid: int, booked: int) -> tuple[float, float]:
        """(buys, sells) in contracts of instrument ``iid`` written at sequences >= ``booked``."""
        fills = self.fills
        while fills and fills[0][0] < booked:
            fills.popleft()
        buys = sells = 0.0
        for _, i, signed in fills:
            if i == iid:
                if signed > 0:
                    buys += signed
                else:
                    sells -= signed
        return buys, sells

    def __getattr__(self, name):     # tail, lapped_count, close ... of the writer
        return getattr(self.writer, name)


class PreTrade:
    def __init__(self, gate, tap: ExecTap, open_orders, paused, risk_timeout_s: float, instruments):
        """
        gate            shm.gate.GateView on the gate segment
        tap             the ExecTap every execution is written through
        open_orders     OpenOrders (``bid`` / ``ask``: contracts resting or in flight per instrument)
        paused          a 1-element view of the shared state's ``paused``
        risk_timeout_s  a gate older than this blocks quoting (risk dead or stuck)
        instruments     our Instrument list (id = index), for the portfolio's membership
        """
        self.gate, self.tap, self.open_orders, self.paused = gate, tap, open_orders, paused
        self.instruments = instruments
        self.timeout_ns = int(risk_timeout_s * 1e9)
        self.block = R.RISK_GATE_STALE
        self.limits: list[tuple] = []     # per instrument: the six numbers kernels.pretrade takes
        self.portfolio: Portfolio | None = None    # None while both portfolio limits are off
        self.checked = self.trimmed = 0

    def refresh(self, now_ns: int) -> int:
        """Once per pass: take the newest gate; returns the RISK_* bits that block quoting now."""
        g = self.gate
        if g.refresh():
            if g.limits_changed:
                g.limits_changed = False
                self.limits = g.limits
                self.portfolio = self._portfolio(*g.portfolio)
            pf = self.portfolio
            if pf is not None:
                pf.net_delta, pf.gross = g.net_delta, g.gross
        block = g.block
        if g.seq == 0 or now_ns - g.heartbeat_ns > self.timeout_ns:
            block |= R.RISK_GATE_STALE
        if self.paused[0]:
            block |= R.RISK_PAUSED
        self.block = block
        return block

    def _portfolio(self, max_net_delta: float, max_gross: float, underlying) -> Portfolio | None:
        if not (max_net_delta or max_gross) or len(underlying) != len(self.instruments):
            return None
        pf = Portfolio(self.instruments, PortfolioLimits(max_net_delta, max_gross, 1.0))
        if list(pf.underlying_of) != list(underlying):
            raise ValueError(f"gate: risk's underlying indices {list(underlying)} differ from the "
                             f"gateway's {pf.underlying_of} (the two processes read different instruments)")
        return pf

    def check(self, q: np.ndarray, iid: int, rehearsal: bool = False) -> int:
        """The checks on the 1-record QuoteSet ``q`` of instrument ``iid``, in place; returns the
        reason bits added (the record says the same in ``type``, levels and ``reason``).
        ``rehearsal``: a dry run that keeps the caches warm (Quoting.rehearse): not counted."""
        g = self.gate
        if iid >= len(self.limits):
            return pretrade_approve(q, (0.0,) * 6, 0.0, 0.0, 0.0, self.block | R.RISK_GATE_STALE)
        buys, sells = self.tap.unbooked(iid, g.exec_booked)
        position = g.position[iid]
        oo = self.open_orders
        self.checked += not rehearsal
        band = g.delta_band >> iid & 1
        pf = self.portfolio
        caps = None
        if pf is not None:
            pf.beyond_band = [bool(g.delta_band >> m[0] & 1) for m in pf.members]
            caps = pf.side_caps(iid, g.position, g.mark, oo.bid, oo.ask)
        added = pretrade_approve(q, self.limits[iid], position + buys, position - sells, g.mark[iid],
                                 self.block, g.trading_state == REDUCING and not band,
                                 oo.bid[iid], oo.ask[iid], caps)
        self.trimmed += added != 0 and not rehearsal
        return added
