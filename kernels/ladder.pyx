"""The quote ladder (MODELS.md, "Quote ladder"): what the quoter publishes.

From the model's bid0/ask0: clamp the total spread to [min_spread, max_spread] around their
centre, add the maker-fee pad to each half-spread, then N levels a side ``spacing_ticks`` apart.
Bids snap down and asks up to the tick; no bid at or above the opposite best ask and no ask at or
below the best bid (post-only never crosses). Sizes are ``base_size x multiplier[i]``, shrunk by
exp(-eta |q|) on the side that would grow |q|, cut to the room left under ``max_position``
counting the open orders on that side, floored to the amount tick; a level below
``min_amount`` ends the side. Quote fading: beyond ``fade_start`` x max_position the growing
side also steps away by up to ``fade_ticks`` and shrinks by the same fraction
x = (|q|/max_position - fade_start) / (1 - fade_start), so the limit is approached smoothly.

:func:`keep_within_tolerance` keeps each level's previous price when the new one moved by no more
than a tolerance and its amount is unchanged, so a requote leaves it untouched and its queue
priority is kept; it returns a bit mask of the levels that still change.
"""
from libc.math cimport exp, fabs, isfinite
cimport numpy as cnp

import numpy as np

cdef double SNAP_EPS = 1e-9   # in ticks: 99.9999999 ticks is 100 ticks, not 99


cdef inline double floor_(double x) noexcept nogil:
    # floor() without a libm call (x86-64 baseline has no SSE4.1 round); |x| < 2^63 here.
    cdef long long i = <long long>x
    return <double>(i - (x < i))


cdef inline double snap_down(double x, double step, double inv_step) noexcept nogil:
    return floor_(x * inv_step + SNAP_EPS) * step


cdef inline double snap_up(double x, double step, double inv_step) noexcept nogil:
    return -floor_(-x * inv_step + SNAP_EPS) * step


cdef inline bint usable(double price) noexcept nogil:
    return isfinite(price) and price > 0.0


cdef inline double fade_fraction(const LadderSpec *spec, double q) noexcept nogil:
    # 0 below fade_start x max_position, rising linearly to 1 at the limit.
    cdef double x
    if spec.fade_start >= 1.0 or spec.max_position <= 0.0:
        return 0.0
    x = (fabs(q) / spec.max_position - spec.fade_start) / (1.0 - spec.fade_start)
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


cdef void ladder_c(const LadderSpec *spec, double bid0, double ask0, double q,
                   double open_bid, double open_ask, double best_bid, double best_ask,
                   double *bid_price, double *bid_amount, int *n_bids,
                   double *ask_price, double *ask_amount, int *n_asks) noexcept nogil:
    cdef double tick = spec.tick, centre, spread, half, price, prev, size, room, amount, shape
    cdef double inv_tick = 1.0 / spec.tick, inv_amount_tick = 1.0 / spec.amount_tick
    cdef double ask_floor, fade = fade_fraction(spec, q), step
    cdef int i, n
    n_bids[0] = 0
    n_asks[0] = 0
    if not (isfinite(bid0) and isfinite(ask0) and isfinite(q) and tick > 0.0):
        return
    centre = 0.5 * (bid0 + ask0)
    spread = ask0 - bid0
    if spread < spec.min_spread:
        spread = spec.min_spread
    if spread > spec.max_spread:
        spread = spec.max_spread
    half = 0.5 * spread + (spec.fee_pad if spec.fee_pad > 0.0 else 0.0)

    # Bids: best first, walking down.
    shape = exp(-spec.eta * q) * (1.0 - fade) if q > 0.0 else 1.0
    step = fade * spec.fade_ticks * tick if q > 0.0 else 0.0
    room = spec.max_position - q - open_bid
    n = 0
    prev = 0.0
    for i in range(spec.levels):
        price = snap_down(centre - half - step - i * spec.spacing_ticks * tick, tick, inv_tick)
        if usable(best_ask) and price >= best_ask - 0.5 * tick:
            price = snap_down(best_ask - tick, tick, inv_tick)
        if n > 0 and price > prev - 0.5 * tick:
            price = prev - tick
        if price <= 0.0:
            break
        size = spec.base_size * spec.multipliers[i] * shape
        amount = snap_down(size if size < room else room, spec.amount_tick, inv_amount_tick)
        if not amount >= spec.min_amount - 1e-12:
            break
        bid_price[n] = price
        bid_amount[n] = amount
        room -= amount
        prev = price
        n += 1
    n_bids[0] = n

    # Asks: best first, walking up; never at or below the best bid nor our own best bid.
    shape = exp(spec.eta * q) * (1.0 - fade) if q < 0.0 else 1.0
    step = fade * spec.fade_ticks * tick if q < 0.0 else 0.0
    room = spec.max_position + q - open_ask
    ask_floor = best_bid if usable(best_bid) else 0.0
    if n > 0 and bid_price[0] > ask_floor:
        ask_floor = bid_price[0]
    n = 0
    for i in range(spec.levels):
        price = snap_up(centre + half + step + i * spec.spacing_ticks * tick, tick, inv_tick)
        if ask_floor > 0.0 and price <= ask_floor + 0.5 * tick:
            price = snap_up(ask_floor + tick, tick, inv_tick)
        if n > 0 and price < prev + 0.5 * tick:
            price = prev + tick
        size = spec.base_size * spec.multipliers[i] * shape
        amount = snap_down(size if size < room else room, spec.amount_tick, inv_amount_tick)
        if not amount >= spec.min_amount - 1e-12:
            break
        ask_price[n] = price
        ask_amount[n] = amount
        room -= amount
        prev = price
        n += 1
    n_asks[0] = n


cdef unsigned int keep_within_tolerance_c(int side, const double *old_price, const double *old_amount,
                                          int n_old, double *price, const double *amount, int n,
                                          double tol, double tick, double opposite_best) noexcept nogil:
    cdef unsigned int mask = 0
    cdef int i
    cdef double candidate, prev = 0.0
    for i in range(n):
        candidate = price[i]
        if (i < n_old and fabs(price[i] - old_price[i]) <= tol + 1e-9 * tick
                and fabs(amount[i] - old_amount[i]) <= 1e-12):
            candidate = old_price[i]
            # The kept price must still be post-only safe and keep the side strictly ordered.
            if usable(opposite_best) and side * (opposite_best - candidate) < 0.5 * tick:
                candidate = price[i]
            elif i > 0 and side * (prev - candidate) < 0.5 * tick:
                candidate = price[i]
        if i > 0 and side * (prev - candidate) < 0.5 * tick:
            candidate = prev - side * tick
        price[i] = candidate
        prev = candidate
        if i >= n_old or candidate != old_price[i] or amount[i] != old_amount[i]:
            mask |= 1u << i
    for i in range(n, n_old):
        mask |= 1u << i
    return mask


cdef LadderSpec make_spec(double tick, double amount_tick, double min_amount, int levels,
                          double spacing_ticks, double min_spread, double max_spread, double fee_pad,
                          double base_size, multipliers, double eta, double max_position,
                          double fade_start=1.0, double fade_ticks=0.0) except *:
    cdef LadderSpec spec
    cdef int i
    if not 1 <= levels <= MM_MAX_LEVELS:
        raise ValueError(f"levels={levels}: must be 1..{MM_MAX_LEVELS} a side")
    if len(multipliers) < levels:
        raise ValueError(f"multipliers has {len(multipliers)} values: need one per level ({levels})")
    if not (tick > 0 and amount_tick > 0 and min_amount > 0):
        raise ValueError(f"tick={tick}, amount_tick={amount_tick}, min_amount={min_amount}: must be > 0")
    spec.tick, spec.amount_tick, spec.min_amount, spec.levels = tick, amount_tick, min_amount, levels
    spec.spacing_ticks, spec.min_spread, spec.max_spread = spacing_ticks, min_spread, max_spread
    spec.fee_pad, spec.base_size, spec.eta, spec.max_position = fee_pad, base_size, eta, max_position
    spec.fade_start, spec.fade_ticks = fade_start, fade_ticks
    for i in range(MM_MAX_LEVELS):
        spec.multipliers[i] = multipliers[i] if i < levels else 0.0
    return spec


def build_ladder(double bid0, double ask0, double q, double open_bid, double open_ask,
                 double best_bid, double best_ask, *, double tick, double amount_tick,
                 double min_amount, int levels, double spacing_ticks, double min_spread,
                 double max_spread, double fee_pad, double base_size, multipliers, double eta,
                 double max_position, double[::1] bid_price, double[::1] bid_amount,
                 double[::1] ask_price, double[::1] ask_amount, double fade_start=1.0,
                 double fade_ticks=0.0):
    """Fill the four output arrays (>= ``levels`` long); return (n_bids, n_asks).

    Prices USD, amounts contracts; ``q``, ``open_bid``, ``open_ask`` in contracts (open orders
    that may still fill on each side besides this ladder). A NaN best price means that side of
    the book is empty.
    """
    cdef LadderSpec spec = make_spec(tick, amount_tick, min_amount, levels, spacing_ticks,
                                     min_spread, max_spread, fee_pad, base_size, multipliers, eta,
                                     max_position, fade_start, fade_ticks)
    cdef int nb, na
    if min(bid_price.shape[0], bid_amount.shape[0], ask_price.shape[0], ask_amount.shape[0]) < levels:
        raise ValueError(f"output arrays must hold {levels} levels")
    ladder_c(&spec, bid0, ask0, q, open_bid, open_ask, best_bid, best_ask,
             &bid_price[0], &bid_amount[0], &nb, &ask_price[0], &ask_amount[0], &na)
    return nb, na


def keep_within_tolerance(int side, double[::1] old_price, double[::1] old_amount, int n_old,
                          double[::1] price, double[::1] amount, int n, double tol, double tick,
                          double opposite_best):
    """Keep previous prices that moved by <= tol (USD) with unchanged amounts; edits ``price``.

    ``side`` +1 for bids, -1 for asks. Returns the mask of levels that change (bit i = level i,
    including levels that disappear); 0 means the side needs no requote.
    """
    return keep_within_tolerance_c(side, &old_price[0], &old_amount[0], n_old, &price[0],
                                   &amount[0], n, tol, tick, opposite_best)
