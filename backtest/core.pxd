# distutils: language = c++
# The replay core: exchange model, latency queues, local book, our order table, quote steps
# (rules: backtest/__init__.py).
from shm.records cimport MM_MAX_LEVELS, MdRecord, QuoteSet
from kernels.quote cimport QuoteEngine
from backtest.book cimport Levels, Tops
from backtest.csv_text cimport Row, Text
from kernels.pretrade cimport PretradeLimits, SideCaps

cdef struct Event:           # EVENT_DTYPE (backtest/events.py)
    long long exch_ts
    long long local_ts
    double price
    double qty
    int kind
    int flags

cdef struct Report:          # REPORT_DTYPE
    long long exch_ts
    long long local_ts
    long long order_id
    double price
    double amount
    double leaves
    double fee
    int kind
    int side
    int maker
    int reason

cdef struct Action:          # an order action on its way to the exchange
    long long ts
    long long oid
    double price
    double amount
    int action
    int side
    int post_only

cdef struct Order:           # one of ours resting at the exchange
    long long oid
    long long tick
    double price
    double leaves
    double front             # contracts ahead of us at our price
    double cum               # traded at our price since the last depth update (prob. models)
    int side

cdef struct Mine:            # one of ours as we see it (ladder_orders.py's OpenOrder)
    long long oid
    double price
    double amount            # what we asked for
    double leaves            # what rests, as far as the answers tell
    int side
    int pending              # requests sent and not answered
    int cancelling

cdef class Core:
    # ---- settings ----
    cdef readonly double tick, lot, power, maker_fee, taker_fee
    cdef readonly int qm
    cdef readonly bint partial, mass_quote
    cdef readonly long long entry_ns, response_ns, interval
    # ---- data ----
    cdef object buf
    cdef Event *ev
    cdef long long n, ie, il
    cdef readonly bint eof
    # ---- books (tick -> contracts), hftbacktest's best-price tracking (book.pxd) ----
    cdef Levels ex_bids, ex_asks, lo_bids, lo_asks
    cdef Tops ex, lo
    # ---- our orders at the exchange, and the two latency queues ----
    cdef Order orders[256]
    cdef int n_orders
    cdef Action *to_exch
    cdef long long ex_head, ex_tail, ex_cap
    cdef Report *to_local
    cdef long long lo_head, lo_tail, lo_cap
    cdef Report *reports
    cdef readonly long long n_reports
    cdef long long rep_cap
    cdef public bint fills_only      # take_reports: only fills (the driver), or every answer (tests)
    # ---- our side: the order table, the ladder we want, the orders.csv rows ----
    cdef Mine mine[256]
    cdef int n_mine
    cdef readonly long long next_oid
    cdef double want_price[2][MM_MAX_LEVELS]
    cdef double want_amount[2][MM_MAX_LEVELS]
    cdef int want_n[2]
    cdef bint blocked                # the last ladder waits for answers (one request per order)
    cdef public bint log_rows
    cdef Row *rows
    cdef long long n_rows, rows_cap
    cdef readonly long long n_insert, n_amend, n_cancel, n_reject, n_post_only_rejects
    cdef readonly long long n_ladders, n_pulls
    cdef Text quotes_text, md_text      # quotes.csv and md.csv rows (log_rows)
    cdef Text rows_text                 # orders.csv text, formatted from ``rows`` when taken
    cdef long long next_md_ns
    # ---- clock, quote steps ----
    cdef readonly long long now, last_exch_ts, events
    cdef bint step_pending
    cdef long long step_ts, next_timer, md_seq
    cdef public double inventory
    cdef readonly object engine, md, quote
    cdef QuoteEngine cengine
    cdef readonly int quote_status
    # ---- the pre-trade checks, run here on each new ladder once set_pretrade was called ----
    cdef bint pretrade
    cdef PretradeLimits lim
    cdef SideCaps no_caps
    cdef public unsigned int block   # RISK_* bits that deny quoting (paused, HALTED): the driver sets them
    cdef public bint reducing        # REDUCING: the side growing |position| is dropped
    cdef readonly double last_sigma  # of the last QUOTE_SET the engine made (USD/sqrt(s))

    cpdef int run(self, long long until) except -1
    cpdef double local_mid(self)
    cdef int _local_data(self, Event *e) except -1
    cdef int _deliver(self, Report *r) except -1
    cdef bint _step(self, long long ts) except -1
    cdef void _exch_data(self, Event *e) noexcept
    cdef void _exch_order(self, Action *a) noexcept
    cdef void _new(self, long long ts, long long oid, int side, double price, double amount,
                   int post_only, int ack) noexcept
    cdef void _fill(self, Order *o, double amount, long long ts) noexcept
    cdef void _respond(self, int kind, long long ts, long long oid, int side, double price,
                       double amount, double leaves, double fee, int maker, int reason) noexcept
    cdef void _compact(self) noexcept
    cdef void _queue_depth(self, Order *o, double prev, double new) noexcept
    cdef double _queue_filled(self, Order *o) noexcept
    cdef int _send(self, int action, long long oid, int side, double price, double amount) except -1
    cdef int _enqueue(self, int action, long long oid, int side, double price, double amount,
                      long long local_ts, bint post_only) except -1
    cdef int _diff(self, int side) except -1
    cdef int _apply_wanted(self) except -1
    cdef int _take_ladder(self, QuoteSet *s) except -1
    cdef int _approve_and_apply(self) except -1
    cdef void _open(self, double *bid, double *ask) noexcept
    cdef int _row(self, long long ts, int event, int side, long long oid, double price, double amount,
                  int reason) except -1
    cdef void _forget(self, int k) noexcept
    cdef int _log_quote(self) except -1
