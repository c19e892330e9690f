"""Limits across instruments, in USD: net delta per underlying and gross notional.

Thalex's futures and perpetuals are linear: one contract is one coin, so (positions in contracts,
marks in USD)

    delta of an instrument     = position x mark
    net delta of an underlying = the sum over its instruments (BTC perpetual and BTC futures together)
    gross notional             = the sum of |position| x mark over every instrument

Two uses, both in the risk process:

- ``checks()`` feeds TradingState.evaluate: the account is REDUCING from reduce_at_fraction of a
  limit and stays REDUCING at it, never HALTED: the orders below keep the account inside the
  limit, so a limit reached through one instrument leaves every instrument free to reduce.
- ``side_caps(...)`` gives the pre-trade kernel (kernels/pretrade.pyx) each side's cap for every
  ladder the gateway checks; ``trim(q, ...)`` applies them alone. While an underlying's net delta is
  beyond the band, its instruments quote only the side that shrinks that delta (a long BTC future
  leaves the BTC perpetual its asks alone, whatever the perpetual's own position). And no side
  may take the net delta or the gross notional beyond its limit, counting the orders resting on
  every instrument (the gateway's open_bid/open_ask, as approve counts them for max_position):
  their fills may already be on the way.

A limit of 0 is off. Every denial is a reason bit on the record (RISK_REDUCING,
RISK_TRIM_NET_DELTA, RISK_TRIM_GROSS), never a silent drop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from kernels.pretrade import pretrade_approve
from runtime.settings import underlyings
from shm import records as R

HYSTERESIS = 0.9   # a net delta beyond the band clears below this fraction of it (as TradingState)


@dataclass(frozen=True)
class PortfolioLimits:
    max_net_delta_usd: float        # per underlying, 0 = off
    max_gross_notional_usd: float   # 0 = off
    reduce_at_fraction: float       # REDUCING beyond this fraction of a limit

    @classmethod
    def from_risk(cls, risk) -> "PortfolioLimits":
        """From the [risk] section (conf.schema.Risk): the one place these numbers are read."""
        return cls(risk.max_net_delta_usd, risk.max_gross_notional_usd, risk.reduce_at_fraction)


class Portfolio:
    def __init__(self, instruments, limits: PortfolioLimits):
        """``instruments``: our Instrument list (id = index; each names its ``underlying``)."""
        self.limits = limits
        self.underlyings = underlyings(instruments)
        self.underlying_of = [self.underlyings.index(i.underlying) for i in instruments]
        self.members = [[i.id for i in instruments if i.underlying == u] for u in self.underlyings]
        self.net_delta = [0.0] * len(self.underlyings)   # USD
        self.gross = 0.0                                 # USD
        self.beyond_band = [False] * len(self.underlyings)

    # ---- figures -------------------------------------------------------------------------
    def update(self, positions, marks) -> None:
        """Recompute the figures from positions (contracts) and marks (USD; 0 = none yet)."""
        delta = [0.0] * len(self.underlyings)
        gross = 0.0
        for iid, u in enumerate(self.underlying_of):
            m = marks[iid]
            if m > 0 and math.isfinite(m):
                delta[u] += positions[iid] * m
                gross += abs(positions[iid]) * m
        self.net_delta, self.gross = delta, gross
        cap, fraction = self.limits.max_net_delta_usd, self.limits.reduce_at_fraction
        for u, d in enumerate(delta):
            band = fraction * (HYSTERESIS if self.beyond_band[u] else 1.0) * cap
            self.beyond_band[u] = bool(cap) and abs(d) >= band

    def checks(self) -> list[tuple[str, float, float]]:
        """(reason, how far it has gone, limit) for TradingState.evaluate (USD; limits that are on)."""
        out = []
        if self.limits.max_net_delta_usd:
            out += [(f"net delta {u}", abs(d), self.limits.max_net_delta_usd)
                    for u, d in zip(self.underlyings, self.net_delta)]
        if self.limits.max_gross_notional_usd:
            out.append(("gross notional", self.gross, self.limits.max_gross_notional_usd))
        return out

    def reduces_delta(self, iid: int) -> bool:
        """Instrument ``iid``'s underlying is beyond its net-delta band: the instrument may only
        shrink that delta (which then decides its side, not its own position)."""
        return self.beyond_band[self.underlying_of[iid]]

    def publish(self, state) -> None:
        """The figures into the shared state (``net_delta_usd`` by underlying index)."""
        state.table["net_delta_usd"][0][:len(self.net_delta)] = self.net_delta
        state.table["gross_notional_usd"] = self.gross

    # ---- pre-trade -----------------------------------------------------------------------
    def side_caps(self, iid: int, positions, marks, open_bid, open_ask) -> tuple | None:
        """What the portfolio allows instrument ``iid`` to add per side, as kernels.pretrade takes
        it: (bid contracts, bid reason bit, ask contracts, ask reason bit); None when nothing caps
        it (no limit on, or no usable mark). The orders resting on every instrument count (their
        fills may already be on the way)."""
        mark = marks[iid]
        if not (mark > 0 and math.isfinite(mark)):
            return None
        lim = self.limits
        if not (lim.max_net_delta_usd or lim.max_gross_notional_usd):
            return None
        u = self.underlying_of[iid]
        delta = self.net_delta[u]
        resting = {1: 0.0, -1: 0.0}      # USD that resting orders could still add, per side
        for j in self.members[u]:
            if marks[j] > 0:
                resting[1] += float(open_bid[j]) * marks[j]
                resting[-1] += float(open_ask[j]) * marks[j]
        all_resting = sum(float(open_bid[j] + open_ask[j]) * marks[j]
                          for j in range(len(self.underlying_of)) if marks[j] > 0)
        caps = []
        for side in (1, -1):
            if self.beyond_band[u] and side * delta > 0:
                caps += [0.0, R.RISK_REDUCING]       # only the side that shrinks the delta
                continue
            room, bit = math.inf, 0              # USD, and the reason bit of the tighter room
            if lim.max_net_delta_usd:
                room, bit = lim.max_net_delta_usd - side * delta - resting[side], R.RISK_TRIM_NET_DELTA
            if lim.max_gross_notional_usd and side * positions[iid] >= 0:
                gross_room = lim.max_gross_notional_usd - self.gross - all_resting
                if gross_room < room:
                    room, bit = gross_room, R.RISK_TRIM_GROSS
            caps += [max(room, 0.0) / mark, bit]
        return tuple(caps)

    def trim(self, q, iid: int, positions, marks, open_bid, open_ask, amount_tick: float,
             min_amount: float) -> int:
        """Apply the portfolio checks alone to the 1-record QuoteSet ``q`` of instrument ``iid``,
        in place (the same caps the pre-trade kernel applies beside the instrument's own limits);
        returns the reason bits it added."""
        if q["type"][0] != R.QUOTE_SET:
            return 0
        caps = self.side_caps(iid, positions, marks, open_bid, open_ask)
        if caps is None:
            return 0
        return pretrade_approve(q, (math.inf, math.inf, math.inf, math.inf, amount_tick, min_amount),
                                0.0, 0.0, marks[iid], caps=caps)
