# distutils: language = c++
# The replay core: exchange model, latency queues, local book, quote steps (rules: __init__.py).
from libcpp.map cimport map as cmap
from shm.records cimport MdRecord
from kernels.quote cimport QuoteEngine

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

cdef class Core:
    # ---- settings ----
    cdef readonly double tick, lot, power, maker_fee, taker_fee
    cdef readonly int qm
    cdef readonly bint partial
    cdef readonly long long entry_ns, response_ns, interval
    # ---- data ----
    cdef object buf
    cdef Event *ev
    cdef long long n, ie, il
    cdef readonly bint eof
    # ---- books (tick -> contracts) ----
    cdef cmap[long long, double] ex_bids, ex_asks, lo_bids, lo_asks
    cdef long long ex_bb, ex_ba, lo_bb, lo_ba
    # ---- our orders and the two latency queues ----
    cdef Order orders[256]
    cdef int n_orders
    cdef Action *to_exch
    cdef long long ex_head, ex_tail, ex_cap
    cdef Report *to_local
    cdef long long lo_head, lo_tail, lo_cap
    cdef Report *reports
    cdef long long n_reports, rep_cap
    # ---- clock, quote steps ----
    cdef readonly long long now, last_exch_ts, events
    cdef bint step_pending
    cdef long long step_ts, next_timer, md_seq
    cdef public double inventory
    cdef readonly object engine, md, quote
    cdef QuoteEngine cengine
    cdef readonly int quote_status

    cpdef int run(self, long long until) except -1
    cdef int _local_data(self, Event *e) except -1
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
