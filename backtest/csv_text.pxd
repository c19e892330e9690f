# CSV text of the replay core's run-directory files (orders.csv, quotes.csv, md.csv), written in
# C as the pure-Python twin writes it (backtest/ladder_orders.py fmt_num, backtest/core_twin.py):
# numbers with the shortest digits that read back exactly, positional in [1e-6, 1e15), else as
# Python's repr(); ladder levels as f"{price:g}@{amount:g}" joined by "|".
from libc.stdlib cimport realloc
from libc.string cimport memcpy, strlen
from shm.records cimport QuoteSet

cdef struct Text:            # a growing buffer of CSV text
    char *p
    long long n, cap

cdef struct Row:             # one orders.csv row: an action we sent or an answer that reached us
    long long ts
    long long oid
    double price
    double amount
    int event                # ACTION_* or REPORT_* + 10 (backtest/events.py ROW_NAMES)
    int side
    int reason

cdef extern from *:
    """
    #include <charconv>
    #include <cmath>
    /* orders.csv numbers: shortest round-trip digits, positional in [1e-6, 1e15), else as repr() */
    static inline char *bt_fmt_num(char *p, char *end, double v) {
        double a = std::fabs(v);
        if (std::isfinite(v) && (a == 0.0 || (a >= 1e-6 && a < 1e15)))
            return std::to_chars(p, end, v, std::chars_format::fixed).ptr;
        return std::to_chars(p, end, v).ptr;
    }
    static inline char *bt_fmt_int(char *p, char *end, long long v) {
        return std::to_chars(p, end, v).ptr;
    }
    /* printf's "%g" (6 significant digits, trailing zeros dropped): the standard defines
       to_chars(general, 6) as exactly that, without printf's format parsing and big-number
       arithmetic (snprintf was most of a run directory's cost) */
    static inline char *bt_fmt_g(char *p, char *end, double v) {
        return std::to_chars(p, end, v, std::chars_format::general, 6).ptr;
    }
    """
    char *bt_fmt_num(char *p, char *end, double v) nogil
    char *bt_fmt_int(char *p, char *end, long long v) nogil
    char *bt_fmt_g(char *p, char *end, double v) nogil

cdef inline int text_reserve(Text *t, long long more) except -1:
    cdef char *p
    cdef long long cap
    if t.n + more <= t.cap:
        return 0
    cap = max(2 * t.cap, t.n + more + 4096)
    p = <char *>realloc(t.p, cap)
    if p == NULL:
        raise MemoryError("backtest core: CSV text")
    t.p, t.cap = p, cap
    return 0


cdef inline char *put(char *p, const char *s) noexcept nogil:
    cdef size_t n = strlen(s)
    memcpy(p, s, n)
    return p + n


cdef inline char *put_num(char *p, double v) noexcept nogil:
    p[0] = b','
    return bt_fmt_num(p + 1, p + 40, v)


cdef inline char *put_levels(char *p, const double *price, const double *amount, int n) noexcept nogil:
    # f"{p:g}@{a:g}" joined by "|", as Python writes it
    cdef int i
    p[0] = b','
    p += 1
    for i in range(n):
        if i:
            p[0] = b'|'
            p += 1
        p = bt_fmt_g(p, p + 32, price[i])
        p[0] = b'@'
        p = bt_fmt_g(p + 1, p + 33, amount[i])
    return p


cdef inline bytes text_take(Text *t):
    out = t.p[:t.n] if t.n else b""
    t.n = 0
    return out


cdef inline const char *row_name(int event) noexcept nogil:
    # events.ROW_NAMES
    if event == 1:
        return "insert"
    if event == 2:
        return "amend"
    if event == 3:
        return "cancel"
    if event == 11:
        return "ack"
    if event == 12:
        return "reject"
    if event == 13:
        return "cancelled"
    if event == 14:
        return "fill"
    return "amended"


cdef inline bytes orders_text(Text *t, Row *rows, long long n):
    """orders.csv lines of ``rows``, formatted in ``t`` (reused: no zeroed buffer per call)."""
    cdef long long i
    cdef char *p
    cdef Row *r
    cdef const char *name
    text_reserve(t, n * 160 + 1)       # a row is at most ~150 characters
    p = t.p + t.n
    for i in range(n):
        r = &rows[i]
        p = bt_fmt_int(p, p + 24, r.ts)
        p[0] = b','
        name = row_name(r.event)
        memcpy(p + 1, name, strlen(name))
        p += 1 + strlen(name)
        memcpy(p, b",0,", 3)
        p = bt_fmt_int(p + 3, p + 27, r.side)
        p[0] = b','
        p = bt_fmt_int(p + 1, p + 25, r.oid)
        p[0] = b','
        p = bt_fmt_num(p + 1, p + 41, r.price)
        p[0] = b','
        p = bt_fmt_num(p + 1, p + 41, r.amount)
        p[0] = b','
        p = bt_fmt_int(p + 1, p + 25, r.reason)
        p[0] = b'\n'
        p += 1
    t.n = p - t.p
    return text_take(t)


cdef inline int quote_row(Text *t, long long now, long long seq, QuoteSet *q) except -1:
    """The engine's proposal as one quotes.csv row."""
    cdef int nb = q.n_bids, na = q.n_asks
    cdef char *p
    text_reserve(t, 512 + 64 * (nb + na))
    p = t.p + t.n
    p = bt_fmt_int(p, p + 24, now)
    p = put(p, ",0,")
    p = bt_fmt_int(p, p + 24, seq)
    p = put(p, ",set," if q.type == 1 else ",pull,")
    p = bt_fmt_int(p, p + 24, q.reason)
    p = put_num(put_num(put_num(put_num(p, q.mid), q.reservation_price), q.half_spread), q.sigma)
    p = put_num(put_num(put_num(put_num(p, q.gamma), q.intensity_a), q.intensity_k), q.inventory)
    p[0] = b','
    p = bt_fmt_int(p + 1, p + 24, nb)
    p[0] = b','
    p = bt_fmt_int(p + 1, p + 24, na)
    p[0] = b','
    p += 1
    if nb:
        p = bt_fmt_num(p, p + 40, q.bid_price[0])
    p[0] = b','
    p += 1
    if na:
        p = bt_fmt_num(p, p + 40, q.ask_price[0])
    p[0] = b','                        # latency_ns empty: a quote step takes no simulated time
    p += 1
    p = put_levels(p, q.bid_price, q.bid_amount, nb)
    p = put_levels(p, q.ask_price, q.ask_amount, na)
    p[0] = b'\n'
    t.n = p + 1 - t.p
    return 0


cdef inline int md_row(Text *t, long long now, double bb, double bq, double ba, double aq, double mid) except -1:
    """The local top of book as one md.csv row (no mark when ``mid`` is 0)."""
    cdef char *p
    text_reserve(t, 256)
    p = t.p + t.n
    p = bt_fmt_int(p, p + 24, now)
    p = put(p, ",0")
    p = put_num(put_num(put_num(put_num(p, bb), bq), ba), aq)
    p[0] = b','
    p += 1
    if mid != 0:
        p = bt_fmt_num(p, p + 40, mid)
    p = put(p, ",,,0\n")
    t.n = p - t.p
    return 0
