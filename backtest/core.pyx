# distutils: language = c++
"""The replay core in C: exchange model, latency queues, local book, our order table, quote steps.

The twin in core_twin.py + ladder_orders.py is the same algorithm in Python (read it first: it is
shorter); the rules are listed in backtest/__init__.py. Everything here runs without Python
objects except the quote step (the live QuoteEngine's C entry point) and the hand-over of fills,
quote sets and orders.csv text to the driver.
"""
from libc.math cimport fabs, log1p, pow, round, isnan, isinf, INFINITY, NAN
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
cimport numpy as cnp

import numpy as np

from shm import records as R
from backtest.events import EVENT_DTYPE, REPORT_DTYPE
from kernels.quote cimport QuoteEngine
from kernels.pretrade cimport pretrade_check
from kernels.quote import QuoteEngine as CompiledEngine
from backtest.csv_text cimport Row, Text, text_take, orders_text, quote_row, md_row
from backtest.book cimport (BOOK_NEG, BOOK_POS, Levels, Tops, tops_reset, to_tick, level_qty, update_bid,
                            update_ask, clear_side)

cnp.import_array()

MD_ROW_NS = 100_000_000        # md.csv: the local top of book at most this often (ns)

cdef long long INF = 9223372036854775807
cdef enum:
    BID_DEPTH = 1
    ASK_DEPTH = 2
    BUY_TRADE = 3
    SELL_TRADE = 4
    CLEAR = 5
    BID_CLEAR = 6
    ASK_CLEAR = 7
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
cdef unsigned short T_QUOTE_SET = R.QUOTE_SET


cdef inline double ieee_min(double a, double b) noexcept nogil:
    # Rust's f64::min: a NaN operand yields the other one.
    if isnan(a):
        return b
    if isnan(b):
        return a
    return a if a < b else b


cdef class Core:
    """Exchange model + latency + local book + our orders + the quote engine, for one instrument.

    tick USD, lot contracts (the amount tick), latencies ns, fee rates fractions of notional,
    requote_interval_ns 0 = a quote step after every market update that moved the local top of
    book. ``engine`` is a kernels.quote.QuoteEngine (or its twin) or None (no quote steps).
    ``mass_quote``: how a new ladder becomes order actions (backtest/ladder_orders.py).
    """

    def __init__(self, double tick, double lot, int queue_model=0, double queue_power=2.0,
                 bint partial=False, long long entry_ns=0, long long response_ns=0,
                 double maker_fee=0.0, double taker_fee=0.0, long long requote_interval_ns=0,
                 engine=None, bint mass_quote=True, long long first_oid=101):
        self.tick, self.lot, self.qm, self.power, self.partial = tick, lot, queue_model, queue_power, partial
        self.entry_ns, self.response_ns = entry_ns, response_ns
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.interval = requote_interval_ns
        self.engine = engine
        self.cengine = engine if isinstance(engine, CompiledEngine) else None
        self.mass_quote = mass_quote
        self.next_oid = first_oid
        self.buf = np.zeros(0, EVENT_DTYPE)
        self.ev = NULL
        self.n = self.ie = self.il = 0
        self.eof = False
        tops_reset(&self.ex)
        tops_reset(&self.lo)
        self.n_orders = self.n_mine = 0
        self.want_n[0] = self.want_n[1] = 0
        self.blocked = False
        self.ex_cap = self.rep_cap = 64
        self.lo_cap = MAX_ORDERS * 4
        self.rows_cap = 1024
        self.to_exch = <Action *>malloc(sizeof(Action) * self.ex_cap)
        self.to_local = <Report *>malloc(sizeof(Report) * self.lo_cap)
        self.reports = <Report *>malloc(sizeof(Report) * self.rep_cap)
        self.rows = <Row *>malloc(sizeof(Row) * self.rows_cap)
        if self.to_exch == NULL or self.to_local == NULL or self.reports == NULL or self.rows == NULL:
            raise MemoryError("backtest core: cannot allocate its order queues")
        self.ex_head = self.ex_tail = self.lo_head = self.lo_tail = self.n_reports = self.n_rows = 0
        self.fills_only = self.log_rows = False
        self.n_insert = self.n_amend = self.n_cancel = self.n_reject = self.n_post_only_rejects = 0
        self.n_ladders = self.n_pulls = self.next_md_ns = 0
        self.quotes_text.p = self.md_text.p = self.rows_text.p = NULL
        self.quotes_text.n = self.quotes_text.cap = self.md_text.n = self.md_text.cap = 0
        self.rows_text.n = self.rows_text.cap = 0
        self.now = self.last_exch_ts = self.events = 0
        self.step_pending, self.step_ts, self.next_timer, self.md_seq = False, 0, 0, 0
        self.inventory = 0.0
        self.md = np.zeros(1, R.MD_DTYPE)
        self.quote = np.zeros(1, R.QUOTE_DTYPE)
        self.quote_status = 0
        self.pretrade = self.reducing = False
        self.block = 0
        self.no_caps.bid = self.no_caps.ask = INFINITY
        self.no_caps.bid_reason = self.no_caps.ask_reason = 0
        self.last_sigma = NAN

    def __dealloc__(self):
        free(self.to_exch)
        free(self.to_local)
        free(self.reports)
        free(self.rows)
        free(self.quotes_text.p)
        free(self.rows_text.p)
        free(self.md_text.p)

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
        """Send an order action at ``local_ts`` (ns) past our order table (tests); it reaches the
        exchange entry_ns later."""
        self._enqueue(action, oid, side, price, amount, local_ts, post_only)

    cdef int _enqueue(self, int action, long long oid, int side, double price, double amount,
                      long long local_ts, bint post_only) except -1:
        if self.ex_tail == self.ex_cap:
            self._grow_actions()
        cdef Action *a = &self.to_exch[self.ex_tail]
        a.ts, a.oid, a.price, a.amount = local_ts + self.entry_ns, oid, price, amount
        a.action, a.side, a.post_only = action, side, post_only
        self.ex_tail += 1
        return 0

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
        """The answers that reached us since the last call (only fills when ``fills_only``)."""
        out = np.zeros(self.n_reports, REPORT_DTYPE)
        if self.n_reports:
            memcpy(cnp.PyArray_DATA(out), self.reports, sizeof(Report) * self.n_reports)
        self.n_reports = 0
        return out

    def local_best(self):
        """(bid, bid qty, ask, ask qty) as we have received them; NaN for an empty side."""
        bb = self.lo.best_bid * self.tick if self.lo.best_bid != BOOK_NEG else NAN
        ba = self.lo.best_ask * self.tick if self.lo.best_ask != BOOK_POS else NAN
        return bb, self.lo.best_bid_qty, ba, self.lo.best_ask_qty

    cpdef double local_mid(self):
        """The mid of the book as we have received it (USD), 0 while a side is empty."""
        if self.lo.best_bid == BOOK_NEG or self.lo.best_ask == BOOK_POS:
            return 0.0
        return 0.5 * (self.lo.best_bid * self.tick + self.lo.best_ask * self.tick)

    # ---- our side: ladder -> actions, answers -> our order table -------------------------------
    def apply_ladder(self, q):
        """Move our orders towards the approved QUOTE_DTYPE record ``q`` (a pull: none), now."""
        if q.dtype != R.QUOTE_DTYPE or len(q) != 1:
            raise TypeError(f"q: expected one QUOTE_DTYPE record, got {q.dtype} x {len(q)}")
        self._take_ladder(<QuoteSet *>cnp.PyArray_DATA(q))

    cdef int _take_ladder(self, QuoteSet *s) except -1:
        cdef int i
        self.want_n[0] = s.n_bids if s.type == T_QUOTE_SET else 0
        self.want_n[1] = s.n_asks if s.type == T_QUOTE_SET else 0
        for i in range(self.want_n[0]):
            self.want_price[0][i], self.want_amount[0][i] = s.bid_price[i], s.bid_amount[i]
        for i in range(self.want_n[1]):
            self.want_price[1][i], self.want_amount[1][i] = s.ask_price[i], s.ask_amount[i]
        self._apply_wanted()
        return 0

    def set_pretrade(self, tuple limits):
        """Run the live pre-trade checks (kernels/pretrade.pyx) here on every new ladder, against
        ``limits`` (procs.risk.limits.Limits.as_tuple()), ``inventory``, our open orders,
        ``block`` and ``reducing``, and apply it at once: ``run`` no longer stops at each ladder
        (STOP_QUOTE), so the live checks cost no trip through Python."""
        self.lim.max_position, self.lim.max_notional, self.lim.max_order_size, self.lim.price_band_bps, \
            self.lim.amount_tick, self.lim.min_amount = limits
        self.pretrade = True

    cdef int _approve_and_apply(self) except -1:
        cdef QuoteSet *q = <QuoteSet *>cnp.PyArray_DATA(self.quote)
        cdef double b, a
        self._open(&b, &a)
        pretrade_check(q, &self.lim, self.inventory, self.inventory, q.mid, self.block, self.reducing,
                       b, a, &self.no_caps)
        self._take_ladder(q)
        return 0

    def cancel_all(self):
        """Want no orders (the trading state's cancel-all), now."""
        self.want_n[0] = self.want_n[1] = 0
        self._apply_wanted()

    def open_amounts(self):
        """(bid, ask) contracts of ours resting or on their way (what may still fill)."""
        cdef double b, a
        self._open(&b, &a)
        return b, a

    cdef void _open(self, double *bid, double *ask) noexcept:
        cdef int k
        bid[0] = ask[0] = 0.0
        for k in range(self.n_mine):
            if self.mine[k].side == 1:
                bid[0] += self.mine[k].leaves
            else:
                ask[0] += self.mine[k].leaves

    def has_orders(self):
        return self.n_mine > 0

    def counts(self):
        return {"insert": self.n_insert, "amend": self.n_amend, "cancel": self.n_cancel,
                "reject": self.n_reject, "post_only_rejects": self.n_post_only_rejects,
                "ladders": self.n_ladders, "pulls": self.n_pulls}

    def take_text(self, name):
        """quotes.csv or md.csv text logged since the last call (``log_rows``), as bytes."""
        if name == "quotes":
            return text_take(&self.quotes_text)
        if name == "md":
            return text_take(&self.md_text)
        if name == "orders":
            return self.take_rows()
        raise KeyError(f"take_text: {name!r}: expected quotes, md or orders")

    cdef int _log_quote(self) except -1:
        """The engine's proposal as a quotes.csv row (and the top of book as an md.csv row at most
        every MD_ROW_NS), before the limits see it."""
        cdef QuoteSet *q = <QuoteSet *>cnp.PyArray_DATA(self.quote)
        quote_row(&self.quotes_text, self.now, self.n_ladders + self.n_pulls + 1, q)
        if self.now < self.next_md_ns:
            return 0
        self.next_md_ns = self.now + MD_ROW_NS
        md_row(&self.md_text, self.now, self.lo.best_bid * self.tick if self.lo.best_bid != BOOK_NEG else NAN,
               self.lo.best_bid_qty,
               self.lo.best_ask * self.tick if self.lo.best_ask != BOOK_POS else NAN,
               self.lo.best_ask_qty, q.mid)
        return 0

    def take_rows(self):
        """orders.csv text of the rows logged since the last call (``log_rows``), as bytes."""
        out = orders_text(&self.rows_text, self.rows, self.n_rows)
        self.n_rows = 0
        return out

    cdef int _row(self, long long ts, int event, int side, long long oid, double price, double amount,
                  int reason) except -1:
        cdef Row *r
        if not self.log_rows:
            return 0
        if self.n_rows == self.rows_cap:
            r = <Row *>realloc(self.rows, sizeof(Row) * self.rows_cap * 2)
            if r == NULL:
                raise MemoryError("backtest core: orders.csv rows")
            self.rows, self.rows_cap = r, self.rows_cap * 2
        r = &self.rows[self.n_rows]
        self.n_rows += 1
        r.ts, r.event, r.side, r.oid, r.price, r.amount, r.reason = ts, event, side, oid, price, amount, reason
        return 0

    cdef int _send(self, int action, long long oid, int side, double price, double amount) except -1:
        self._enqueue(action, oid, side, price, amount, self.now, True)
        if action == ACTION_INSERT:
            self.n_insert += 1
        elif action == ACTION_AMEND:
            self.n_amend += 1
        else:
            self.n_cancel += 1
        return self._row(self.now, action, side, oid, price, amount, 0)

    cdef int _apply_wanted(self) except -1:
        self.blocked = False
        self._diff(1)
        self._diff(-1)
        return 0

    cdef int _diff(self, int side) except -1:
        """ladder_orders.diff in C: keep same price and amount, amend (insert/amend mode) or
        cancel the rest when no request of theirs is on its way, insert what is missing."""
        cdef int s = 0 if side == 1 else 1, n = self.want_n[s], i, k
        cdef char used[256]
        cdef char matched[MM_MAX_LEVELS]
        cdef double price, amount
        cdef Mine *o
        for k in range(self.n_mine):
            used[k] = self.mine[k].side != side or self.mine[k].cancelling
        for i in range(n):
            price, amount = self.want_price[s][i], self.want_amount[s][i]
            matched[i] = 0
            for k in range(self.n_mine):
                o = &self.mine[k]
                if not used[k] and fabs(o.price - price) < self.tick * 1e-6 and fabs(o.amount - amount) < 1e-12:
                    used[k] = matched[i] = 1
                    break
        if not self.mass_quote:
            k = 0
            for i in range(n):
                if matched[i]:
                    continue
                while k < self.n_mine and (used[k] or self.mine[k].pending):
                    k += 1
                if k == self.n_mine:
                    break
                o = &self.mine[k]
                used[k] = matched[i] = 1
                o.price, o.amount = self.want_price[s][i], self.want_amount[s][i]
                o.pending += 1
                self._send(ACTION_AMEND, o.oid, side, o.price, o.amount)
        for k in range(self.n_mine):
            if used[k]:
                continue
            o = &self.mine[k]
            if o.pending:
                self.blocked = True          # cancelled once its answer is in
                continue
            o.cancelling, o.pending = 1, o.pending + 1
            self._send(ACTION_CANCEL, o.oid, side, o.price, o.amount)
        for i in range(n):
            if matched[i]:
                continue
            if self.n_mine == MAX_ORDERS:
                raise RuntimeError(f"backtest: more than {MAX_ORDERS} orders of ours at once")
            o = &self.mine[self.n_mine]
            self.n_mine += 1
            o.oid, o.side, o.price, o.amount = self.next_oid, side, self.want_price[s][i], self.want_amount[s][i]
            o.leaves, o.pending, o.cancelling = o.amount, 1, 0
            self.next_oid += 1
            self._send(ACTION_INSERT, o.oid, side, o.price, o.amount)
        return 0

    cdef void _forget(self, int k) noexcept:
        cdef int j
        for j in range(k + 1, self.n_mine):
            self.mine[j - 1] = self.mine[j]
        self.n_mine -= 1

    cdef int _deliver(self, Report *r) except -1:
        """An answer reaches us: our order table follows it; a waiting ladder is tried again."""
        cdef int k, found = -1
        for k in range(self.n_mine):
            if self.mine[k].oid == r.order_id:
                found = k
                break
        if r.kind == REPORT_FILL:
            if found >= 0:
                self.mine[found].leaves = r.leaves
                if r.leaves <= 0:
                    self._forget(found)
        elif r.kind == REPORT_CANCELLED or r.kind == REPORT_REJECT:
            if found >= 0:
                self._forget(found)
            if r.kind == REPORT_REJECT:
                self.n_reject += 1
                self.n_post_only_rejects += r.reason == REJECT_POST_ONLY
        elif found >= 0:
            self.mine[found].pending -= 1
            if r.kind == REPORT_AMENDED:
                self.mine[found].leaves = r.amount
        self._row(r.local_ts, r.kind + 10, r.side, r.order_id, r.price, r.amount, r.reason)
        if not self.fills_only or r.kind == REPORT_FILL:
            if self.n_reports == self.rep_cap:
                p = <Report *>realloc(self.reports, sizeof(Report) * self.rep_cap * 2)
                if p == NULL:
                    raise MemoryError("backtest core: reports")
                self.reports, self.rep_cap = p, self.rep_cap * 2
            self.reports[self.n_reports] = r[0]
            self.n_reports += 1
        if self.blocked:
            self._apply_wanted()
        return 0

    # ---- the loop ----------------------------------------------------------------------------
    cpdef int run(self, long long until) except -1:
        cdef long long il, ie, n = self.n, t_ld, t_lo, t_ed, t_eo, t_local, t
        cdef Event *ev = self.ev
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
                    if not self.pretrade:
                        return STOP_QUOTE
                    self._approve_and_apply()
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
                self.lo_head += 1
                self._deliver(&self.to_local[self.lo_head - 1])
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
        cdef long long bb = self.lo.best_bid, ba = self.lo.best_ask
        cdef double bq = self.lo.best_bid_qty, aq = self.lo.best_ask_qty
        self.last_exch_ts = e.exch_ts
        if e.kind == BID_DEPTH:
            update_bid(self.lo_bids, self.lo_asks, &self.lo, to_tick(e.price, self.tick), e.qty, self.lot)
        elif e.kind == ASK_DEPTH:
            update_ask(self.lo_bids, self.lo_asks, &self.lo, to_tick(e.price, self.tick), e.qty, self.lot)
        elif e.kind == BUY_TRADE or e.kind == SELL_TRADE:
            if self.cengine is not None:
                self.cengine.on_trade(e.price, e.qty, 1 if e.kind == BUY_TRADE else -1, e.exch_ts * 1e-9)
            elif self.engine is not None:
                self.engine.on_trade(e.price, e.qty, 1 if e.kind == BUY_TRADE else -1, e.exch_ts * 1e-9)
            return 0
        else:
            clear_side(self.lo_bids, self.lo_asks, &self.lo, 1 if e.kind == BID_CLEAR else
                       (-1 if e.kind == ASK_CLEAR else 0), e.price, self.tick)
        if self.engine is None:
            return 0
        if self.interval:
            if not self.next_timer:
                self.next_timer = (self.now // self.interval + 1) * self.interval
        elif (bb != self.lo.best_bid or ba != self.lo.best_ask or bq != self.lo.best_bid_qty
              or aq != self.lo.best_ask_qty):
            self.step_pending, self.step_ts = True, self.now
        return 0

    cdef bint _step(self, long long ts) except -1:
        """One call of the live QuoteEngine on the local top of book; True when it has news."""
        cdef MdRecord *md = <MdRecord *>cnp.PyArray_DATA(self.md)
        cdef bint has_bid = self.lo.best_bid != BOOK_NEG, has_ask = self.lo.best_ask != BOOK_POS
        self.md_seq += 1
        md.type = T_MD_BOOK
        md.seq = self.md_seq
        md.exchange_ts_ns = self.last_exch_ts + (ts - self.now if ts > self.now else 0)
        md.receive_ts_ns = ts
        md.best_bid_price = self.lo.best_bid * self.tick if has_bid else NAN
        md.best_bid_amount = self.lo.best_bid_qty
        md.best_ask_price = self.lo.best_ask * self.tick if has_ask else NAN
        md.best_ask_amount = self.lo.best_ask_qty
        md.mark_price = 0.5 * (md.best_bid_price + md.best_ask_price) if has_bid and has_ask else NAN
        if ts > self.now:
            self.now = ts
        if self.cengine is not None:
            self.quote_status = self.cengine.quote_c(md, self.inventory, 0.0, 0.0,
                                                     <QuoteSet *>cnp.PyArray_DATA(self.quote))
        else:
            self.quote_status = self.engine.quote(self.md, self.inventory, 0.0, 0.0, self.quote)
        if self.quote_status == 0:
            return False
        if self.log_rows:
            self._log_quote()
        if (<QuoteSet *>cnp.PyArray_DATA(self.quote)).type == T_QUOTE_SET:
            self.n_ladders += 1
            self.last_sigma = (<QuoteSet *>cnp.PyArray_DATA(self.quote)).sigma
        else:
            self.n_pulls += 1
        return True

    # ---- the exchange --------------------------------------------------------------------------
    cdef void _exch_data(self, Event *e) noexcept:
        cdef long long tick = to_tick(e.price, self.tick), prev_best, ts = e.exch_ts, lo_t, hi_t
        cdef double prev, qty = e.qty, done
        cdef int i, hit, removed = 0
        cdef bint all_orders
        cdef Order *o
        if e.kind == BID_DEPTH:
            prev_best = self.ex.best_bid
            prev = update_bid(self.ex_bids, self.ex_asks, &self.ex, tick, qty, self.lot)
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side == 1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex.best_bid > prev_best:       # our asks up to the new best bid are hit
                all_orders = prev_best == BOOK_NEG or self.n_orders < self.ex.best_bid - prev_best
                for i in range(self.n_orders):
                    o = &self.orders[i]
                    if o.side == -1 and o.tick <= self.ex.best_bid and (all_orders or o.tick > prev_best):
                        self._fill(o, o.leaves, ts)
                        removed = 1
        elif e.kind == ASK_DEPTH:
            prev_best = self.ex.best_ask
            prev = update_ask(self.ex_bids, self.ex_asks, &self.ex, tick, qty, self.lot)
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side == -1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex.best_ask < prev_best:
                all_orders = prev_best == BOOK_POS or self.n_orders < prev_best - self.ex.best_ask
                for i in range(self.n_orders):
                    o = &self.orders[i]
                    if o.side == 1 and o.tick >= self.ex.best_ask and (all_orders or o.tick < prev_best):
                        self._fill(o, o.leaves, ts)
                        removed = 1
        elif e.kind == BUY_TRADE or e.kind == SELL_TRADE:
            # hftbacktest looks at the ticks between the best and the trade, or at every order
            if e.kind == BUY_TRADE:
                hit = -1                            # a buyer lifts our asks
                all_orders = self.ex.best_bid == BOOK_NEG or self.n_orders < tick - self.ex.best_bid
                lo_t, hi_t = BOOK_NEG, BOOK_POS
                if not all_orders:
                    lo_t, hi_t = self.ex.best_bid + 1, tick
            else:
                hit = 1
                all_orders = self.ex.best_ask == BOOK_POS or self.n_orders < self.ex.best_ask - tick
                lo_t, hi_t = BOOK_NEG, BOOK_POS
                if not all_orders:
                    lo_t, hi_t = tick, self.ex.best_ask - 1
            for i in range(self.n_orders):
                o = &self.orders[i]
                if o.side != hit or o.leaves <= 0 or o.tick < lo_t or o.tick > hi_t:
                    continue
                if (o.tick - tick) * hit > 0:              # the trade went through our price: all of it
                    self._fill(o, o.leaves, ts)
                    removed = 1
                elif o.tick == tick:
                    o.front -= qty
                    o.cum += qty
                    done = self._queue_filled(o)
                    if done > 0:
                        self._fill(o, o.leaves if not self.partial or done >= o.leaves else done, ts)
                        removed = 1
        else:
            clear_side(self.ex_bids, self.ex_asks, &self.ex, 1 if e.kind == BID_CLEAR else
                       (-1 if e.kind == ASK_CLEAR else 0), e.price, self.tick)
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
            if to_tick(a.price, self.tick) == o.tick and a.amount <= o.leaves:
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
        cdef bint crosses = (side == 1 and tick >= self.ex.best_ask) or (side == -1 and tick <= self.ex.best_bid)
        if crosses:
            if post_only:
                self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_POST_ONLY)
                return
            best = (self.ex.best_ask if side == 1 else self.ex.best_bid) * self.tick   # taker: all at the best
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
        cdef double ex = round(-o.front / self.lot)
        if ex > 0:
            o.front = 0.0
            return ex * self.lot
        return 0.0
