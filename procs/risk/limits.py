"""Pre-trade checks on a QuoteSet, in place: what may reach the exchange (NautilusTrader style:
every denial is a reason bit on the record, never a silent drop).

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

import math
from dataclasses import dataclass

from shm import records as R


@dataclass(frozen=True)
class Limits:
    max_position: float     # contracts
    max_notional: float     # USD
    max_order_size: float   # contracts
    price_band_bps: float   # of mark
    amount_tick: float      # contracts
    min_amount: float       # contracts


def make_pull(q, reason: int) -> int:
    """Turn the set into a PULL of its instrument (levels cleared)."""
    q["type"] = R.QUOTE_PULL
    q["n_bids"] = q["n_asks"] = 0
    q["reason"] |= reason
    return reason


def approve(q, position: float, mark: float, lim: Limits, halted: bool, paused: bool,
            reducing: bool, open_bid: float = 0.0, open_ask: float = 0.0) -> int:
    """Apply the checks to the 1-record QuoteSet array ``q``; returns the reason bits it added."""
    if paused:
        return make_pull(q, R.RISK_PAUSED)
    if halted:
        return make_pull(q, R.RISK_HALTED)
    if q["type"][0] != R.QUOTE_SET:
        return 0
    if not (mark > 0 and math.isfinite(mark)):
        return make_pull(q, R.RISK_NO_MARK)
    reason = 0
    for side, prices, amounts, count, resting in ((1, "bid_price", "bid_amount", "n_bids", open_bid),
                                                  (-1, "ask_price", "ask_amount", "n_asks", open_ask)):
        pa, aa = q[prices][0], q[amounts][0]   # views into the record
        p, a = pa.tolist(), aa.tolist()        # plain floats: 10x faster than NumPy scalars
        n = int(q[count][0])
        if reducing and side * position > 0:
            reason |= R.RISK_REDUCING if n else 0
            n = 0
        room = lim.max_position - side * position - resting
        notional_room = lim.max_notional / mark - side * position - resting
        kept = 0
        for i in range(n):
            if abs(p[i] - mark) > mark * lim.price_band_bps * 1e-4:
                reason |= R.RISK_PRICE_BAND
                break
            amount = a[i]
            if amount > lim.max_order_size:
                amount, reason = lim.max_order_size, reason | R.RISK_TRIM_ORDER_SIZE
            if amount > room:
                amount, reason = room, reason | R.RISK_TRIM_POSITION
            if amount > notional_room:
                amount, reason = notional_room, reason | R.RISK_TRIM_NOTIONAL
            amount = math.floor(amount / lim.amount_tick + 1e-9) * lim.amount_tick
            if amount < lim.min_amount - 1e-12:
                break
            p[kept], a[kept] = p[i], amount
            room -= amount
            notional_room -= amount
            kept += 1
        for j in range(kept, n):
            p[j] = a[j] = 0.0
        pa[:] = p
        aa[:] = a
        q[count] = kept
    q["reason"] |= reason
    return reason
