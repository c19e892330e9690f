"""Pure-Python twin of kernels/ladder.pyx (the rules are described there)."""
import math

from shm.records import MAX_LEVELS

SNAP_EPS = 1e-9


def _snap_down(x, step):
    return math.floor(x * (1.0 / step) + SNAP_EPS) * step


def _snap_up(x, step):
    return -math.floor(-x * (1.0 / step) + SNAP_EPS) * step


def _usable(price):
    return math.isfinite(price) and price > 0.0


def build_ladder(bid0, ask0, q, open_bid, open_ask, best_bid, best_ask, *, tick, amount_tick,
                 min_amount, levels, spacing_ticks, min_spread, max_spread, fee_pad, base_size,
                 multipliers, eta, max_position, bid_price, bid_amount, ask_price, ask_amount,
                 fade_start=1.0, fade_ticks=0.0):
    if not 1 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels={levels}: must be 1..{MAX_LEVELS} a side")
    if len(multipliers) < levels:
        raise ValueError(f"multipliers has {len(multipliers)} values: need one per level ({levels})")
    if not (tick > 0 and amount_tick > 0 and min_amount > 0):
        raise ValueError(f"tick={tick}, amount_tick={amount_tick}, min_amount={min_amount}: must be > 0")
    if min(len(bid_price), len(bid_amount), len(ask_price), len(ask_amount)) < levels:
        raise ValueError(f"output arrays must hold {levels} levels")
    if not (math.isfinite(bid0) and math.isfinite(ask0) and math.isfinite(q)):
        return 0, 0
    centre = 0.5 * (bid0 + ask0)
    spread = min(max(ask0 - bid0, min_spread), max_spread)
    half = 0.5 * spread + max(fee_pad, 0.0)

    fade = 0.0
    if fade_start < 1.0 and max_position > 0.0:
        fade = min(max((abs(q) / max_position - fade_start) / (1.0 - fade_start), 0.0), 1.0)
    shape = math.exp(-eta * q) * (1.0 - fade) if q > 0.0 else 1.0
    step = fade * fade_ticks * tick if q > 0.0 else 0.0
    room = max_position - q - open_bid
    n, prev = 0, 0.0
    for i in range(levels):
        price = _snap_down(centre - half - step - i * spacing_ticks * tick, tick)
        if _usable(best_ask) and price >= best_ask - 0.5 * tick:
            price = _snap_down(best_ask - tick, tick)
        if n > 0 and price > prev - 0.5 * tick:
            price = prev - tick
        if price <= 0.0:
            break
        size = base_size * multipliers[i] * shape
        amount = _snap_down(min(size, room), amount_tick)
        if not amount >= min_amount - 1e-12:
            break
        bid_price[n], bid_amount[n] = price, amount
        room -= amount
        prev = price
        n += 1
    n_bids = n

    shape = math.exp(eta * q) * (1.0 - fade) if q < 0.0 else 1.0
    step = fade * fade_ticks * tick if q < 0.0 else 0.0
    room = max_position + q - open_ask
    ask_floor = best_bid if _usable(best_bid) else 0.0
    if n_bids > 0 and bid_price[0] > ask_floor:
        ask_floor = bid_price[0]
    n = 0
    for i in range(levels):
        price = _snap_up(centre + half + step + i * spacing_ticks * tick, tick)
        if ask_floor > 0.0 and price <= ask_floor + 0.5 * tick:
            price = _snap_up(ask_floor + tick, tick)
        if n > 0 and price < prev + 0.5 * tick:
            price = prev + tick
        size = base_size * multipliers[i] * shape
        amount = _snap_down(min(size, room), amount_tick)
        if not amount >= min_amount - 1e-12:
            break
        ask_price[n], ask_amount[n] = price, amount
        room -= amount
        prev = price
        n += 1
    return n_bids, n


def keep_within_tolerance(side, old_price, old_amount, n_old, price, amount, n, tol, tick, opposite_best):
    mask = 0
    prev = 0.0
    for i in range(n):
        candidate = price[i]
        if (i < n_old and abs(price[i] - old_price[i]) <= tol + 1e-9 * tick
                and abs(amount[i] - old_amount[i]) <= 1e-12):
            candidate = old_price[i]
            if _usable(opposite_best) and side * (opposite_best - candidate) < 0.5 * tick:
                candidate = price[i]
            elif i > 0 and side * (prev - candidate) < 0.5 * tick:
                candidate = price[i]
        if i > 0 and side * (prev - candidate) < 0.5 * tick:
            candidate = prev - side * tick
        price[i] = candidate
        prev = candidate
        if i >= n_old or candidate != old_price[i] or amount[i] != old_amount[i]:
            mask |= 1 << i
    for i in range(n, n_old):
        mask |= 1 << i
    return mask
