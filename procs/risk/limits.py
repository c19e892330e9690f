"""The pre-trade limits and the one check that applies them (kernels/pretrade.pyx, with a
Python twin): what may reach the exchange. The gateway runs the kernel on every ladder it sends
(procs/gateway/pretrade.py); risk and the backtest run it through ``approve`` below.

Order of the checks, per side, level by level from the best price outward:
  DENIALS    paused or HALTED -> the set becomes a PULL
  PRICE      a level farther than price_band_bps from the mark is dropped (and those beyond it)
  SIZE       a level larger than max_order_size is cut to it
  REDUCING   the side that would grow |position| is dropped
  POSITION   position + open orders on the side + the side's cumulative amount stay within
             max_position
  NOTIONAL   the same in USD at the mark stays within max_notional
The open orders counted are those the gateway sees resting or sent and unanswered: until the new
ladder replaces them they can still fill, and a fill already done at the exchange may not have
reached us yet. Counting them as well as the new ladder is conservative (near the limit the
ladder shrinks) but holds under any flow.
"""
from __future__ import annotations

from dataclasses import dataclass

from kernels.pretrade import pretrade_approve
from shm import records as R


@dataclass(frozen=True)
class Limits:
    max_position: float     # contracts
    max_notional: float     # USD
    max_order_size: float   # contracts
    price_band_bps: float   # of mark
    amount_tick: float      # contracts
    min_amount: float       # contracts

    def as_tuple(self) -> tuple:
        """The numbers in the order kernels.pretrade takes them."""
        return (self.max_position, self.max_notional, self.max_order_size, self.price_band_bps,
                self.amount_tick, self.min_amount)


def make_pull(q, reason: int) -> int:
    """Turn the set into a PULL of its instrument (levels cleared)."""
    q["type"] = R.QUOTE_PULL
    q["n_bids"] = q["n_asks"] = 0
    q["reason"] |= reason
    return reason


def approve(q, position: float, mark: float, lim: Limits, halted: bool, paused: bool,
            reducing: bool, open_bid: float = 0.0, open_ask: float = 0.0) -> int:
    """Apply the checks to the 1-record QuoteSet array ``q``; returns the reason bits it added."""
    block = R.RISK_PAUSED if paused else R.RISK_HALTED if halted else 0
    return pretrade_approve(q, lim.as_tuple(), position, position, mark, block, reducing,
                            open_bid, open_ask)
