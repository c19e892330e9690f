# distutils: language = c++
"""The replay core in C: exchange model, latency queues, local book and quote steps.

The twin in core_twin.py is the same algorithm in Python (read it first: it is shorter); the
rules are listed in backtest/__init__.py. Everything here runs without Python objects except the
quote step (the live QuoteEngine, called through its C-level cpdef entry points) and the
hand-over of reports and quote sets to the driver.
"""
from libc.math cimport floor, log1p, pow, isnan, isinf, NAN, INFINITY
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from cython.operator cimport dereference as deref
cimport numpy as cnp

import numpy as np

from shm import records as R
from backtest.events import EVENT_DTYPE, REPORT_DTYPE
from kernels.quote cimport QuoteEngine
from kernels.quote import QuoteEngine as CompiledEngine

cnp.import_array()

cdef long long INF = 9223372036854775807
cdef long long NEG = -9223372036854775807
cdef enum:
    BID_DEPTH = 1
    ASK_DEPTH = 2
    BUY_TRADE = 3
    SELL_TRADE = 4
    CLEAR = 5
    EXCH = 1
    LOCAL = 2
    ACTION_INSERT = 1
    ACTION_AMEND = 2
    ACTION_CANCEL = 3
    REPORT_ACK = 1
    REPORT_REJECT = 2
    REPORT_CANCELLED = 3
    REPORT_FILL = 4
    REPORT_AMENDED = 5
    REJECT_POST_ONLY = 1
    REJECT_UNKNOWN_ORDER = 2
    REJECT_DUPLICATE_ID = 3
    REJECT_TOO_MANY = 4
    QUEUE_RISK_AVERSE = 0
    QUEUE_POWER = 1
    STOP_UNTIL = 0
    STOP_DATA = 1
    STOP_REPORTS = 2
    STOP_QUOTE = 3
    STOP_END = 4
    MAX_ORDERS = 256
cdef unsigned short T_MD_BOOK = R.MD_BOOK


cdef inline long long to_tick(double price, double tick) noexcept nogil:
    return <long long>floor(price / tick + 0.5)


cdef inline double level_qty(cmap[long long, double] &m, long long tick) noexcept nogil:
    it = m.find(tick)
    if it == m.end():
        return 0.0
    return deref(it).second


cdef long long set_level(cmap[long long, double] &m, long long tick, double qty, long long best,
                         bint is_bid) noexcept nogil:
    """Set one level of a book side; returns the new best tick."""
    if qty > 0:
        m[tick] = qty
        if (is_bid and tick > best) or (not is_bid and tick < best):
            return tick
        return best
    m.erase(tick)
    if tick == best:
        if m.empty():
            return NEG if is_bid else INF
        return deref(m.rbegin()).first if is_bid else deref(m.begin()).first
    return best


cdef inline double ieee_min(double a, double b) noexcept nogil:
    # Rust's f64::min: a NaN operand yields the other one.
    if isnan(a):
        return b
    if isnan(b):
        return a
    return a if a < b else b


cdef class Core:
    """Exchange model + latency + local book + the quote engine's calls, for one instrument.

    tick USD, lot contracts (the amount tick), latencies ns, fee rates fractions of notional,
    requote_interval_ns 0 = a quote step after every market update that moved the local top of
    book. ``engine`` is a kernels.quote.QuoteEngine (or its twin) or None (no quote steps).
    """

    def __init__(self, double tick, double lot, int queue_model=0, double queue_power=2.0,
                 bint partial=False, long long entry_ns=0, long long response_ns=0,
                 double maker_fee=0.0, double taker_fee=0.0, long long requote_interval_ns=0,
                 engine=None):
        self.tick, self.lot, self.qm, self.power, self.partial = tick, lot, queue_model, queue_power, partial
        self.entry_ns, self.response_ns = entry_ns, response_ns
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.interval = requote_interval_ns
        self.engine = engine
        self.cengine = engine if isinstance(engine, CompiledEngine) else None
        self.buf = np.zeros(0, EVENT_DTYPE)
        self.ev = NULL
        self.n = self.ie = self.il = 0
        self.eof = False
        self.ex_bb = self.lo_bb = NEG
        self.ex_ba = self.lo_ba = INF
        self.n_orders = 0
        self.ex_cap = self.rep_cap = 64
        self.lo_cap = MAX_ORDERS * 4
        self.to_exch = <Action *>malloc(sizeof(Action) * self.ex_cap)
        self.to_local = <Report *>malloc(sizeof(Report) * self.lo_cap)
        self.reports = <Report *>malloc(sizeof(Report) * self.rep_cap)
        if self.to_exch == NULL or self.to_local == NULL or self.reports == NULL:
            raise MemoryError("backtest core: cannot allocate its order queues")
        self.ex_head = self.ex_tail = self.lo_head = self.lo_tail = self.n_reports = 0
        self.now = self.last_exch_ts = self.events = 0
        self.step_pending, self.step_ts, self.next_timer, self.md_seq = False, 0, 0, 0
        self.inventory = 0.0
        self.md = np.zeros(1, R.MD_DTYPE)
        self.quote = np.zeros(1, R.QUOTE_DTYPE)
        self.quote_status = 0

    def __dealloc__(self):
        free(self.to_exch)
        free(self.to_local)
        free(self.reports)

    # ---- input ------------------------------------------------------------------------------
    def feed(self, events, bint eof=False):
        """Append a chunk of EVENT_DTYPE records (sorted by exch_ts); ``eof`` when it is the last."""
        if events.dtype != EVENT_DTYPE:
            raise TypeError(f"events: expected EVENT_DTYPE records, got {events.dtype}")
        keep = min(self.ie, self.il)
        self.buf = np.ascontiguousarray(np.concatenate((self.buf[keep:], events)))
        self.ie -= keep
        self.il -= keep
        self.n = len(self.buf)
        self.ev = <Event *>cnp.PyArray_DATA(self.buf)
        self.eof = eof

    def submit(self, int action, long long oid, int side, double price, double amount,
               long long local_ts, bint post_only=True):
        """Send an order action at ``local_ts`` (ns); it reaches the exchange entry_ns later."""
        if self.ex_tail == self.ex_cap:
            self._grow_actions()
        cdef Action *a = &self.to_exch[self.ex_tail]
        a.ts, a.oid, a.price, a.amount = local_ts + self.entry_ns, oid, price, amount
        a.action, a.side, a.post_only = action, side, post_only
        self.ex_tail += 1

    def _grow_actions(self):
        if self.ex_head > 0:   # slide the live part to the front first
            memcpy(self.to_exch, &self.to_exch[self.ex_head], sizeof(Action) * (self.ex_tail - self.ex_head))
            self.ex_tail -= self.ex_head
            self.ex_head = 0
        if self.ex_tail == self.ex_cap:
            self.ex_cap *= 2
            p = <Action *>realloc(self.to_exch, sizeof(Action) * self.ex_cap)
            if p == NULL:
                raise MemoryError("backtest core: order queue")
            self.to_exch = p

    def take_reports(self):
        out = np.zeros(self.n_reports, REPORT_DTYPE)
        if self.n_reports:
            memcpy(cnp.PyArray_DATA(out), self.reports, sizeof(Report) * self.n_reports)
        self.n_reports = 0
        return out

    def local_best(self):
        """(bid, bid qty, ask, ask qty) as we have received them; NaN for an empty side."""
        bb = self.lo_bb * self.tick if not self.lo_bids.empty() else NAN
        ba = self.lo_ba * self.tick if not self.lo_asks.empty() else NAN
        return bb, level_qty(self.lo_bids, self.lo_bb), ba, level_qty(self.lo_asks, self.lo_ba)

    # ---- the loop ----------------------------------------------------------------------------
    cpdef int run(self, long long until) except -1:
        cdef long long il, ie, n = self.n, t_ld, t_lo, t_ed, t_eo, t_local, t
        cdef Event *ev = self.ev
        cdef Report *r
        while True:
            il, ie = self.il, self.ie
            while il < n and not (ev[il].flags & LOCAL):
                il += 1
            while ie < n and not (ev[ie].flags & EXCH):
                ie += 1
            self.il, self.ie = il, ie
            if (ie >= n or il >= n) and not self.eof:
                return STOP_DATA
            t_ld = ev[il].local_ts if il < n else INF
            t_lo = self.to_local[self.lo_head].local_ts if self.lo_head < self.lo_tail else INF
            t_ed = ev[ie].exch_ts if ie < n else INF
            t_eo = self.to_exch[self.ex_head].ts if self.ex_head < self.ex_tail else INF
            t_local = t_ld if t_ld < t_lo else t_lo
            if self.step_pending and t_local > self.step_ts:
                if self.n_reports:
                    return STOP_REPORTS
                self.step_pending = False
                if self._step(self.step_ts):
                    return STOP_QUOTE
                continue
            t = t_local
            if t_ed < t:
                t = t_ed
            if t_eo < t:
                t = t_eo
            if t == INF and self.eof:
                return STOP_END
            if self.interval and self.next_timer and self.next_timer < t and self.next_timer <= until:
                self.step_pending, self.step_ts = True, self.next_timer
                self.next_timer += self.interval
                continue
            if t > until:
                if until > self.now:
                    self.now = until
                return STOP_UNTIL
            if t_ld == t:
                self.now = t
                self._local_data(&ev[il])
                self.il = il + 1
            elif t_lo == t:
                self.now = t
                if self.n_reports == self.rep_cap:
                    self.rep_cap *= 2
                    r = <Report *>realloc(self.reports, sizeof(Report) * self.rep_cap)
                    if r == NULL:
                        raise MemoryError("backtest core: reports")
                    self.reports = r
                self.reports[self.n_reports] = self.to_local[self.lo_head]
                self.n_reports += 1
                self.lo_head += 1
                if self.lo_head == self.lo_tail:
                    self.lo_head = self.lo_tail = 0
            elif t_ed == t:
                self.events += 1
                self._exch_data(&ev[ie])
                self.ie = ie + 1
            else:
                self._exch_order(&self.to_exch[self.ex_head])
                self.ex_head += 1
                if self.ex_head == self.ex_tail:
                    self.ex_head = self.ex_tail = 0
            if self.lo_tail + MAX_ORDERS * 2 >= self.lo_cap:
                self._grow_reports()

    def _grow_reports(self):
        if self.lo_head > 0:
            memcpy(self.to_local, &self.to_local[self.lo_head], sizeof(Report) * (self.lo_tail - self.lo_head))
            self.lo_tail -= self.lo_head
            self.lo_head = 0
        if self.lo_tail + MAX_ORDERS * 2 >= self.lo_cap:
            self.lo_cap = 2 * self.lo_cap + MAX_ORDERS * 4
            p = <Report *>realloc(self.to_local, sizeof(Report) * self.lo_cap)
            if p == NULL:
                raise MemoryError("backtest core: report queue")
            self.to_local = p

    cdef int _local_data(self, Event *e) except -1:
        cdef long long tick = to_tick(e.price, self.tick)
        cdef long long bb = self.lo_bb, ba = self.lo_ba
        cdef double bq = level_qty(self.lo_bids, bb), aq = level_qty(self.lo_asks, ba)
        self.last_exch_ts = e.exch_ts
        if e.kind == BID_DEPTH:
            self.lo_bb = set_level(self.lo_bids, tick, e.qty, self.lo_bb, True)
        elif e.kind == ASK_DEPTH:
            self.lo_ba = set_level(self.lo_asks, tick, e.qty, self.lo_ba, False)
        elif e.kind == BUY_TRADE or e.kind == SELL_TRADE:
            if self.cengine is not None:
                self.cengine.on_trade(e.price, e.qty, 1 if e.kind == BUY_TRADE else -1, e.exch_ts * 1e-9)
            elif self.engine is not None:
                self.engine.on_trade(e.price, e.qty, 1 if e.kind == BUY_TRADE else -1, e.exch_ts * 1e-9)
            return 0
        elif e.kind == CLEAR:
            self.lo_bids.clear()
            self.lo_asks.clear()
            self.lo_bb, self.lo_ba = NEG, INF
        if self.engine is None:
            return 0
        if self.interval:
            if not self.next_timer:
                self.next_timer = (self.now // self.interval + 1) * self.interval
        elif (bb != self.lo_bb or ba != self.lo_ba or bq != level_qty(self.lo_bids, self.lo_bb)
              or aq != level_qty(self.lo_asks, self.lo_ba)):
            self.step_pending, self.step_ts = True, self.now
        return 0

    cdef bint _step(self, long long ts) except -1:
        """One call of the live QuoteEngine on the local top of book; True when it has news."""
        cdef MdRecord *md = <MdRecord *>cnp.PyArray_DATA(self.md)
        cdef bint has_bid = not self.lo_bids.empty(), has_ask = not self.lo_asks.empty()
        self.md_seq += 1
        md.type = T_MD_BOOK
        md.seq = self.md_seq
        md.exchange_ts_ns = self.last_exch_ts + (ts - self.now if ts > self.now else 0)
        md.receive_ts_ns = ts
        md.best_bid_price = self.lo_bb * self.tick if has_bid else NAN
        md.best_bid_amount = level_qty(self.lo_bids, self.lo_bb)
        md.best_ask_price = self.lo_ba * self.tick if has_ask else NAN
        md.best_ask_amount = level_qty(self.lo_asks, self.lo_ba)
        md.mark_price = 0.5 * (md.best_bid_price + md.best_ask_price) if has_bid and has_ask else NAN
        if ts > self.now:
            self.now = ts
        if self.cengine is not None:
            self.quote_status = self.cengine.quote(self.md, self.inventory, 0.0, 0.0, self.quote)
        else:
            self.quote_status = self.engine.quote(self.md, self.inventory, 0.0, 0.0, self.quote)
        return self.quote_status != 0

    # ---- the exchange --------------------------------------------------------------------------
    cdef void _exch_data(self, Event *e) noexcept:
        cdef long long tick = to_tick(e.price, self.tick), prev_best, ts = e.exch_ts
        cdef double prev, qty = e.qty, done
        cdef int i, hit, removed = 0
        cdef Order *o
        if e.kind == BID_DEPTH:
            prev_best, prev = self.ex_bb, level_qty(self.ex_bids, tick)
            self.ex_bb = set_level(self.ex_bids, tick, qty, self.ex_bb, True)
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side == 1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex_bb > prev_best:
                for i in range(self.n_orders):
                    o = &self.orders[i]
                    if o.side == -1 and o.tick <= self.ex_bb and o.leaves > 0:
                        self._fill(o, o.leaves, ts)
                        removed = 1
        elif e.kind == ASK_DEPTH:
            prev_best, prev = self.ex_ba, level_qty(self.ex_asks, tick)
            self.ex_ba = set_level(self.ex_asks, tick, qty, self.ex_ba, False)
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side == -1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex_ba < prev_best:
                for i in range(self.n_orders):
                    o = &self.orders[i]
                    if o.side == 1 and o.tick >= self.ex_ba and o.leaves > 0:
                        self._fill(o, o.leaves, ts)
                        removed = 1
        elif e.kind == BUY_TRADE or e.kind == SELL_TRADE:
            hit = -1 if e.kind == BUY_TRADE else 1          # the side of ours a trade can fill
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side != hit or o.leaves <= 0:
                    continue
                if (o.tick - tick) * hit > 0:              # the trade went through our price
                    self._fill(o, o.leaves if not self.partial or qty >= o.leaves else qty, ts)
                    removed = 1
                elif o.tick == tick:
                    o.front -= qty
                    o.cum += qty
                    done = self._queue_filled(o)
                    if done > 0:
                        self._fill(o, o.leaves if not self.partial or done >= o.leaves else done, ts)
                        removed = 1
        elif e.kind == CLEAR:
            self.ex_bids.clear()
            self.ex_asks.clear()
            self.ex_bb, self.ex_ba = NEG, INF
        if removed:
            self._compact()

    cdef void _compact(self) noexcept:
        cdef int i, k = 0
        for i in range(self.n_orders):
            if self.orders[i].leaves > 0:
                if k != i:
                    self.orders[k] = self.orders[i]
                k += 1
        self.n_orders = k

    cdef void _exch_order(self, Action *a) noexcept:
        cdef int i, found = -1
        cdef Order *o
        cdef long long oid = a.oid, ts = a.ts
        for i in range(self.n_orders):
            if self.orders[i].oid == oid:
                found = i
                break
        if a.action == ACTION_CANCEL:
            if found < 0:
                self._respond(REPORT_REJECT, ts, oid, a.side, a.price, a.amount, 0.0, 0.0, 0, REJECT_UNKNOWN_ORDER)
                return
            o = &self.orders[found]
            self._respond(REPORT_CANCELLED, ts, oid, o.side, o.price, o.leaves, 0.0, 0.0, 0, 0)
            o.leaves = 0.0
            self._compact()
            return
        if a.action == ACTION_AMEND:
            if found < 0:
                self._respond(REPORT_REJECT, ts, oid, a.side, a.price, a.amount, 0.0, 0.0, 0, REJECT_UNKNOWN_ORDER)
                return
            o = &self.orders[found]
            if to_tick(a.price, self.tick) == o.tick and a.amount <= o.leaves + 1e-12:
                o.leaves = a.amount                        # same price, not larger: keeps its place
                self._respond(REPORT_AMENDED, ts, oid, o.side, o.price, a.amount, a.amount, 0.0, 0, 0)
                return
            i = o.side
            o.leaves = 0.0                                 # otherwise: a new order at the back
            self._compact()
            self._new(ts, oid, i, a.price, a.amount, a.post_only, REPORT_AMENDED)
            return
        if found >= 0:
            self._respond(REPORT_REJECT, ts, oid, a.side, a.price, a.amount, 0.0, 0.0, 0, REJECT_DUPLICATE_ID)
            return
        self._new(ts, oid, a.side, a.price, a.amount, a.post_only, REPORT_ACK)

    cdef void _new(self, long long ts, long long oid, int side, double price, double amount,
                   int post_only, int ack) noexcept:
        cdef long long tick = to_tick(price, self.tick)
        cdef double best
        cdef bint crosses = ((side == 1 and not self.ex_asks.empty() and tick >= self.ex_ba) or
                             (side == -1 and not self.ex_bids.empty() and tick <= self.ex_bb))
        if crosses:
            if post_only:
                self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_POST_ONLY)
                return
            best = (self.ex_ba if side == 1 else self.ex_bb) * self.tick   # taker: all at the best price
            self._respond(REPORT_FILL, ts, oid, side, best, amount, 0.0, self.taker_fee * best * amount, 0, 0)
            return
        if self.n_orders == MAX_ORDERS:
            self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_TOO_MANY)
            return
        cdef Order *o = &self.orders[self.n_orders]
        self.n_orders += 1
        o.oid, o.side, o.tick, o.price, o.leaves, o.cum = oid, side, tick, price, amount, 0.0
        o.front = level_qty(self.ex_bids, tick) if side == 1 else level_qty(self.ex_asks, tick)
        self._respond(ack, ts, oid, side, price, amount, amount, 0.0, 0, 0)

    cdef void _fill(self, Order *o, double amount, long long ts) noexcept:
        o.leaves -= amount
        if o.leaves <= self.lot * 1e-6:
            o.leaves = 0.0                                 # removed by _compact
        self._respond(REPORT_FILL, ts, o.oid, o.side, o.price, amount, o.leaves,
                      self.maker_fee * o.price * amount, 1, 0)

    cdef void _respond(self, int kind, long long ts, long long oid, int side, double price,
                       double amount, double leaves, double fee, int maker, int reason) noexcept:
        cdef Report *r = &self.to_local[self.lo_tail]     # room kept by _grow_reports
        r.exch_ts, r.local_ts, r.order_id = ts, ts + self.response_ns, oid
        r.price, r.amount, r.leaves, r.fee = price, amount, leaves, fee
        r.kind, r.side, r.maker, r.reason = kind, side, maker, reason
        self.lo_tail += 1

    # ---- queue position ------------------------------------------------------------------------
    cdef void _queue_depth(self, Order *o, double prev, double new) noexcept:
        cdef double chg, front, back, fb, ff, prob, est
        if self.qm == QUEUE_RISK_AVERSE:
            o.front = ieee_min(o.front, new)
            return
        chg = prev - new - o.cum
        o.cum = 0.0
        if chg < 0:
            o.front = ieee_min(o.front, new)
            return
        front, back = o.front, prev - o.front
        if self.qm == QUEUE_POWER:
            fb, ff = pow(back, self.power), pow(front, self.power)
        else:
            fb, ff = log1p(back), log1p(front)
        prob = fb / (fb + ff)
        if isinf(prob):
            prob = 1.0
        est = front - (1.0 - prob) * chg + ieee_min(back - prob * chg, 0.0)
        o.front = ieee_min(est, new)

    cdef double _queue_filled(self, Order *o) noexcept:
        cdef double ex = floor(-o.front / self.lot + 0.5)
        if ex > 0:
            o.front = 0.0
            return ex * self.lot
        return 0.0
