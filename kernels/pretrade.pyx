"""Pre-trade checks on a QuoteSet record, in place: what may reach the exchange.

Every denial is a reason bit on the record (shm.records RISK_*), never a silent drop. In order,
per side, level by level from the best price outward:

  DENIALS    ``block`` non-zero (paused, HALTED, a silent risk process...): the set becomes a
             PULL carrying those bits; a PULL or any other record type passes untouched
  NO MARK    no finite positive mark: a PULL (RISK_NO_MARK)
  PRICE      a level farther than price_band_bps from the mark is dropped (and those beyond it)
  SIZE       a level larger than max_order_size is cut to it
  REDUCING   the side that would grow |position| is dropped
  POSITION   position + open orders on the side + the side's cumulative amount <= max_position
  NOTIONAL   the same in USD at the mark <= max_notional

The position comes per side (``position_bid``, ``position_ask``) so that a caller who knows the
position only within an interval (fills seen but not yet booked, which may or may not be in the
booked figure) can be conservative on both sides: the bid side is checked at the interval's top,
the ask side at its bottom. The open orders counted are those resting or sent and unanswered:
until a new ladder replaces them they can still fill.

Units: prices USD, amounts and positions contracts, notional USD, band basis points of the mark.
The pure-Python twin (kernels/twins/pretrade.py) gives the same result bit for bit.
"""
from libc.math cimport INFINITY, fabs, floor, isfinite
cimport numpy as cnp

from shm.records cimport MM_MAX_LEVELS, QuoteSet

from shm import records as R

cnp.import_array()

cdef int QUOTE_SIZE = R.QUOTE_DTYPE.itemsize
cdef unsigned short T_QUOTE_SET = R.QUOTE_SET, T_QUOTE_PULL = R.QUOTE_PULL
cdef unsigned int TRIM_POSITION = R.RISK_TRIM_POSITION, TRIM_NOTIONAL = R.RISK_TRIM_NOTIONAL
cdef unsigned int TRIM_ORDER_SIZE = R.RISK_TRIM_ORDER_SIZE, PRICE_BAND = R.RISK_PRICE_BAND
cdef unsigned int REDUCING = R.RISK_REDUCING, NO_MARK = R.RISK_NO_MARK


cdef inline unsigned int make_pull(QuoteSet *q, unsigned int reason) noexcept nogil:
    q.type = T_QUOTE_PULL
    q.n_bids = 0
    q.n_asks = 0
    q.reason |= reason
    return reason


cdef int check_side(int side, double *price, double *amount, int n, const PretradeLimits *lim,
                    double position, double mark, bint reducing, double resting, double cap,
                    unsigned int cap_reason, unsigned int *reason) noexcept nogil:
    """Trim one side in place; returns how many levels it keeps."""
    cdef double room, notional_room, a, cap_room = cap
    cdef int i, kept = 0
    if reducing and side * position > 0:
        if n:
            reason[0] |= REDUCING
        n = 0
    room = lim.max_position - side * position - resting
    notional_room = lim.max_notional / mark - side * position - resting
    for i in range(n):
        if fabs(price[i] - mark) > mark * lim.price_band_bps * 1e-4:
            reason[0] |= PRICE_BAND
            break
        a = amount[i]
        if a > lim.max_order_size:
            a = lim.max_order_size
            reason[0] |= TRIM_ORDER_SIZE
        if a > room:
            a = room
            reason[0] |= TRIM_POSITION
        if a > notional_room:
            a = notional_room
            reason[0] |= TRIM_NOTIONAL
        if a > cap_room:
            a = cap_room
            reason[0] |= cap_reason
        a = floor(a / lim.amount_tick + 1e-9) * lim.amount_tick
        if a < lim.min_amount - 1e-12:
            break
        price[kept] = price[i]
        amount[kept] = a
        room -= a
        notional_room -= a
        cap_room -= a
        kept += 1
    for i in range(kept, n):
        price[i] = 0.0
        amount[i] = 0.0
    return kept


cdef unsigned int pretrade_check(QuoteSet *q, const PretradeLimits *lim, double position_bid,
                                 double position_ask, double mark, unsigned int block, bint reducing,
                                 double open_bid, double open_ask, const SideCaps *caps) noexcept nogil:
    cdef unsigned int reason = 0
    cdef int nb, na
    if block:
        return make_pull(q, block)
    if q.type != T_QUOTE_SET:
        return 0
    if not (isfinite(mark) and mark > 0.0):
        return make_pull(q, NO_MARK)
    nb = q.n_bids if q.n_bids <= MM_MAX_LEVELS else MM_MAX_LEVELS
    na = q.n_asks if q.n_asks <= MM_MAX_LEVELS else MM_MAX_LEVELS
    q.n_bids = check_side(1, q.bid_price, q.bid_amount, nb, lim, position_bid, mark, reducing,
                          open_bid, caps.bid, caps.bid_reason, &reason)
    q.n_asks = check_side(-1, q.ask_price, q.ask_amount, na, lim, position_ask, mark, reducing,
                          open_ask, caps.ask, caps.ask_reason, &reason)
    q.reason |= reason
    return reason


def pretrade_approve(cnp.ndarray q not None, tuple limits, double position_bid, double position_ask,
                     double mark, unsigned int block=0, bint reducing=False, double open_bid=0.0,
                     double open_ask=0.0, tuple caps=None):
    """Apply the checks to the first QuoteSet of ``q`` in place; returns the reason bits added.

    ``limits``: (max_position, max_notional, max_order_size, price_band_bps, amount_tick,
    min_amount) in contracts, USD, contracts, bps, contracts, contracts. ``block``: RISK_* bits
    that deny quoting (0 = none). ``caps``: (bid, bid_reason, ask, ask_reason), a side's
    cumulative amount in contracts beyond the checks above and the reason bit when it binds (the
    portfolio's limits, procs/risk/portfolio.py); None = no cap."""
    cdef PretradeLimits lim
    cdef SideCaps c
    if cnp.PyArray_ITEMSIZE(q) != QUOTE_SIZE or not cnp.PyArray_IS_C_CONTIGUOUS(q) \
            or cnp.PyArray_SIZE(q) < 1:
        raise TypeError(f"q: expected a C-contiguous QuoteSet array ({QUOTE_SIZE}-byte records), "
                        f"got {q.dtype} x {q.size}")
    lim.max_position, lim.max_notional, lim.max_order_size, lim.price_band_bps, \
        lim.amount_tick, lim.min_amount = limits
    if caps is None:
        c.bid = c.ask = INFINITY
        c.bid_reason = c.ask_reason = 0
    else:
        c.bid, c.bid_reason, c.ask, c.ask_reason = caps
    return pretrade_check(<QuoteSet *>cnp.PyArray_DATA(q), &lim, position_bid, position_ask, mark,
                          block, reducing, open_bid, open_ask, &c)


def ladder_totals(cnp.ndarray q not None):
    """(bid, ask) contracts of the first QuoteSet of ``q``: the sums of its levels, (0, 0) for a
    PULL (what a ladder sent may add to the open orders until the exchange answers)."""
    if cnp.PyArray_ITEMSIZE(q) != QUOTE_SIZE or not cnp.PyArray_IS_C_CONTIGUOUS(q) \
            or cnp.PyArray_SIZE(q) < 1:
        raise TypeError(f"q: expected a C-contiguous QuoteSet array ({QUOTE_SIZE}-byte records), "
                        f"got {q.dtype} x {q.size}")
    cdef const QuoteSet *r = <const QuoteSet *>cnp.PyArray_DATA(q)
    cdef double bids = 0.0, asks = 0.0
    cdef int i
    if r.type == T_QUOTE_SET:
        for i in range(r.n_bids if r.n_bids <= MM_MAX_LEVELS else MM_MAX_LEVELS):
            bids += r.bid_amount[i]
        for i in range(r.n_asks if r.n_asks <= MM_MAX_LEVELS else MM_MAX_LEVELS):
            asks += r.ask_amount[i]
    return bids, asks
