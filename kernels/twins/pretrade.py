"""Pure-Python twin of kernels/pretrade.pyx (the checks are described there)."""
import math

from shm import records as R


def _make_pull(q, reason):
    q["type"] = R.QUOTE_PULL
    q["n_bids"] = q["n_asks"] = 0
    q["reason"] |= reason
    return reason


def pretrade_approve(q, limits, position_bid, position_ask, mark, block=0, reducing=False,
                     open_bid=0.0, open_ask=0.0, caps=None):
    max_position, max_notional, max_order_size, price_band_bps, amount_tick, min_amount = limits
    if block:
        return _make_pull(q, block)
    if q["type"][0] != R.QUOTE_SET:
        return 0
    if not (math.isfinite(mark) and mark > 0):
        return _make_pull(q, R.RISK_NO_MARK)
    reason = 0
    cap_bid, cap_bid_reason, cap_ask, cap_ask_reason = caps or (math.inf, 0, math.inf, 0)
    for side, position, prices, amounts, count, resting, cap, cap_reason in (
            (1, position_bid, "bid_price", "bid_amount", "n_bids", open_bid, cap_bid, cap_bid_reason),
            (-1, position_ask, "ask_price", "ask_amount", "n_asks", open_ask, cap_ask, cap_ask_reason)):
        pa, aa = q[prices][0], q[amounts][0]   # views into the record
        p, a = pa.tolist(), aa.tolist()
        n = min(int(q[count][0]), R.MAX_LEVELS)
        if reducing and side * position > 0:
            reason |= R.RISK_REDUCING if n else 0
            n = 0
        room = max_position - side * position - resting
        notional_room = max_notional / mark - side * position - resting
        kept = 0
        for i in range(n):
            if abs(p[i] - mark) > mark * price_band_bps * 1e-4:
                reason |= R.RISK_PRICE_BAND
                break
            amount = a[i]
            if amount > max_order_size:
                amount, reason = max_order_size, reason | R.RISK_TRIM_ORDER_SIZE
            if amount > room:
                amount, reason = room, reason | R.RISK_TRIM_POSITION
            if amount > notional_room:
                amount, reason = notional_room, reason | R.RISK_TRIM_NOTIONAL
            if amount > cap:
                amount, reason = cap, reason | cap_reason
            amount = math.floor(amount / amount_tick + 1e-9) * amount_tick
            if amount < min_amount - 1e-12:
                break
            p[kept], a[kept] = p[i], amount
            room -= amount
            notional_room -= amount
            cap -= amount
            kept += 1
        for j in range(kept, n):
            p[j] = a[j] = 0.0
        pa[:] = p
        aa[:] = a
        q[count] = kept
    q["reason"] |= reason
    return reason


def ladder_totals(q):
    r = q[0]
    if r["type"] != R.QUOTE_SET:
        return 0.0, 0.0
    bids = asks = 0.0
    for a in r["bid_amount"][:min(int(r["n_bids"]), R.MAX_LEVELS)].tolist():
        bids += a
    for a in r["ask_amount"][:min(int(r["n_asks"]), R.MAX_LEVELS)].tolist():
        asks += a
    return bids, asks
