# One side-by-side L2 book in ticks, kept as hftbacktest 2.4.4's HashMapMarketDepth keeps it (the
# rules of backtest/__init__.py, rule 0), as inline C++ for backtest/core.pyx.
#
# The best prices are tracked, not derived: a level at or beyond the opposite best moves that
# best past it (a crossed update hides the stale levels it crosses instead of deleting them), a
# removed best is replaced by the next level inside [low_bid, best) or (best, high_ask], and a
# size that rounds to zero lots removes its level. A std::map finds the next level where
# hftbacktest scans tick by tick (every key of the map holds a size > 0, so both find the same).
from libc.math cimport round, isfinite, isnan
from libcpp.map cimport map as cmap
from cython.operator cimport dereference as deref, preincrement as inc, predecrement as dec

cdef extern from *:
    """
    static const long long BOOK_NEG = (-9223372036854775807LL - 1);   /* i64::MIN: no bid */
    static const long long BOOK_POS = 9223372036854775807LL;          /* i64::MAX: no ask */
    """
    const long long BOOK_NEG
    const long long BOOK_POS

ctypedef cmap[long long, double] Levels

cdef struct Tops:
    long long best_bid, best_ask, low_bid, high_ask
    double best_bid_qty, best_ask_qty    # the sizes at the two bests (0 for an empty side), kept
                                         # with them: read on every event, looked up only on a move


cdef inline void tops_reset(Tops *t) noexcept nogil:
    t.best_bid, t.best_ask, t.low_bid, t.high_ask = BOOK_NEG, BOOK_POS, BOOK_POS, BOOK_NEG
    t.best_bid_qty = t.best_ask_qty = 0.0


cdef inline long long to_tick(double price, double tick) noexcept nogil:
    # Rust's (x / tick).round() as i64: half away from zero, NaN -> 0
    cdef double x = round(price / tick)
    return 0 if isnan(x) else <long long>x


cdef inline double level_qty(Levels &m, long long tick) noexcept nogil:
    it = m.find(tick)
    if it == m.end():
        return 0.0
    return deref(it).second


cdef inline long long depth_below(Levels &m, long long start, long long end) noexcept nogil:
    """The highest level in [end, start), BOOK_NEG if none."""
    if end >= start:
        return BOOK_NEG
    it = m.lower_bound(start)
    if it == m.begin():
        return BOOK_NEG
    dec(it)
    return deref(it).first if deref(it).first >= end else BOOK_NEG


cdef inline long long depth_above(Levels &m, long long start, long long end) noexcept nogil:
    """The lowest level in (start, end], BOOK_POS if none."""
    if end <= start:
        return BOOK_POS
    it = m.upper_bound(start)
    if it == m.end():
        return BOOK_POS
    return deref(it).first if deref(it).first <= end else BOOK_POS


cdef inline double set_qty(Levels &m, long long tick, double qty, bint keep) noexcept nogil:
    """Set or remove one level; returns its previous size."""
    cdef double prev = 0.0
    it = m.find(tick)
    if it != m.end():
        prev = deref(it).second
        if keep:
            deref(it).second = qty
        else:
            m.erase(it)
    elif keep:
        m[tick] = qty
    return prev


cdef inline double update_bid(Levels &bids, Levels &asks, Tops *t, long long tick, double qty,
                              double lot) noexcept nogil:
    """A bid level's new absolute size; returns its previous size."""
    cdef double lots = round(qty / lot)
    cdef bint keep = not isnan(lots) and lots >= 1.0
    cdef double prev = set_qty(bids, tick, qty, keep)
    if not keep:
        if tick == t.best_bid:
            t.best_bid = depth_below(bids, t.best_bid, t.low_bid)
            t.best_bid_qty = level_qty(bids, t.best_bid)
            if t.best_bid == BOOK_NEG:
                t.low_bid = BOOK_POS
    else:
        if tick > t.best_bid:
            t.best_bid, t.best_bid_qty = tick, qty
            if t.best_bid >= t.best_ask:
                t.best_ask = depth_above(asks, t.best_bid, t.high_ask)
                t.best_ask_qty = level_qty(asks, t.best_ask)
        elif tick == t.best_bid:
            t.best_bid_qty = qty
        if tick < t.low_bid:
            t.low_bid = tick
    return prev


cdef inline double update_ask(Levels &bids, Levels &asks, Tops *t, long long tick, double qty,
                              double lot) noexcept nogil:
    """An ask level's new absolute size; returns its previous size."""
    cdef double lots = round(qty / lot)
    cdef bint keep = not isnan(lots) and lots >= 1.0
    cdef double prev = set_qty(asks, tick, qty, keep)
    if not keep:
        if tick == t.best_ask:
            t.best_ask = depth_above(asks, t.best_ask, t.high_ask)
            t.best_ask_qty = level_qty(asks, t.best_ask)
            if t.best_ask == BOOK_POS:
                t.high_ask = BOOK_NEG
    else:
        if tick < t.best_ask:
            t.best_ask, t.best_ask_qty = tick, qty
            if t.best_bid >= t.best_ask:
                t.best_bid = depth_below(bids, t.best_ask, t.low_bid)
                t.best_bid_qty = level_qty(bids, t.best_bid)
        elif tick == t.best_ask:
            t.best_ask_qty = qty
        if tick > t.high_ask:
            t.high_ask = tick
    return prev


cdef inline void erase_range(Levels &m, long long first, long long last) noexcept nogil:
    """Remove the levels in [first, last]."""
    cdef long long key
    while True:
        it = m.lower_bound(first)
        if it == m.end() or deref(it).first > last:
            return
        key = deref(it).first
        m.erase(key)


cdef inline void clear_side(Levels &bids, Levels &asks, Tops *t, int side, double upto_price,
                            double tick_size) noexcept nogil:
    """side 1: bids from upto_price up to the best (all of them when it is not finite); -1: asks
    from the best up to upto_price; 0: both books."""
    cdef long long upto
    if side == 1:
        if isfinite(upto_price):
            upto = to_tick(upto_price, tick_size)
            if t.best_bid != BOOK_NEG and upto <= t.best_bid:
                erase_range(bids, upto, t.best_bid)
            t.best_bid = depth_below(bids, upto - 1, t.low_bid)
        else:
            bids.clear()
            t.best_bid = BOOK_NEG
        if t.best_bid == BOOK_NEG:
            t.low_bid = BOOK_POS
    elif side == -1:
        if isfinite(upto_price):
            upto = to_tick(upto_price, tick_size)
            if t.best_ask != BOOK_POS and t.best_ask <= upto:
                erase_range(asks, t.best_ask, upto)
            t.best_ask = depth_above(asks, upto + 1, t.high_ask)
        else:
            asks.clear()
            t.best_ask = BOOK_POS
        if t.best_ask == BOOK_POS:
            t.high_ask = BOOK_NEG
    else:
        bids.clear()
        asks.clear()
        tops_reset(t)
    t.best_bid_qty, t.best_ask_qty = level_qty(bids, t.best_bid), level_qty(asks, t.best_ask)
