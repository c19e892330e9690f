"""The risk process's last look at an execution before it is booked (the decoders looked first).

``refusal(e, mark, max_fill, now_ns)`` says why risk must not book record ``e`` ("" when it may):

- fills (EXEC_FILL) and trade reports (EXEC_TRADE): side +1/-1, a trade id (0 could not be booked
  exactly once), a finite price within venue/decode/bounds.py and within a factor PRICE_BAND of
  the mark when there is one, an amount in (0, max_fill], a fee within bounds. A fee of NaN in a
  trade report means "fee unknown" (the spec lets reports leave it out) and is fine; in a fill
  the decoder writes 0 for "unknown" (NaN there is garbage). An exchange time more than
  MAX_CLOCK_AHEAD_NS ahead of our clock is refused (it would move the replay window,
  procs/risk/reconcile.py, into the future).
- positions (EXEC_POSITION): finite, within bounds.
- other kinds (acks, cancels, rejects, markers) carry nothing risk books.

An execution refused here is counted, logged once per reason, and makes risk ask the gateway to
reconcile with the exchange instead of booking it (procs/risk/agent.py).
"""
from __future__ import annotations

import math

from shm import records as R
from venue.decode.bounds import fee_ok, position_ok, price_ok

PRICE_BAND = 10.0   # a fill more than 10x away from the mark, either way, is no fill of ours
MAX_FILL_FACTOR = 10.0   # a fill above 10x max(max_position, max_order_size) is no fill of ours
MAX_CLOCK_AHEAD_NS = 3600 * 1_000_000_000


def max_fill_of(risk_conf) -> float:
    """The largest fill risk believes (contracts), from the [risk] section."""
    return MAX_FILL_FACTOR * max(risk_conf.max_position, risk_conf.max_order_size)


def refusal(e, mark: float, max_fill: float, now_ns: int) -> str:
    """Why execution record ``e`` must not be booked, or "" (``mark`` USD, 0 = none yet;
    ``now_ns`` our wall clock, Unix ns)."""
    kind = int(e["type"])
    if kind == R.EXEC_POSITION:
        position = float(e["position"])
        if not (math.isfinite(position) and position_ok(position)):
            return f"position={position}: expected a finite number of contracts within bounds"
        return ""
    if kind not in (R.EXEC_FILL, R.EXEC_TRADE):
        return ""
    side, price, amount, fee = int(e["side"]), float(e["price"]), float(e["amount"]), float(e["fee"])
    if side not in (1, -1):
        return f"side={side}: expected +1 or -1"
    if not R.trade_id_of(e):
        return "trade id 0: a fill without an id cannot be booked exactly once"
    if not (math.isfinite(price) and price_ok(price)):
        return f"price={price}: expected a finite price within bounds"
    if mark > 0 and not mark / PRICE_BAND <= price <= mark * PRICE_BAND:
        return f"price={price}: more than {PRICE_BAND:g}x away from the mark {mark}"
    if not (math.isfinite(amount) and 0.0 < amount <= max_fill):
        return f"amount={amount}: expected 0 < amount <= {max_fill:g} contracts"
    if int(e["exchange_ts_ns"]) > now_ns + MAX_CLOCK_AHEAD_NS:
        return f"exchange time {int(e['exchange_ts_ns'])} ns: more than an hour ahead of our clock"
    if kind == R.EXEC_TRADE and fee != fee:
        return ""   # a report without a fee: "unknown", the booked fee stays
    if not (math.isfinite(fee) and fee_ok(fee, price, amount)):
        return f"fee={fee}: expected a finite fee within 1% of the notional {price * amount:g}"
    return ""
