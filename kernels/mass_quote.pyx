"""A QuoteSet record encoded as Thalex's ``private/mass_quote`` request, straight into bytes.

    {"method":"private/mass_quote","params":{"quotes":[{"i":NAME,"b":[[P,A],...],"a":[[P,A],...]}],
     "label":LABEL,"post_only":true},"id":RID}

A QUOTE_SET writes its ``n_bids`` / ``n_asks`` levels, best first; a QUOTE_PULL writes empty
sides (the exchange then cancels every quote of the instrument). Prices are written with
``price_decimals`` and amounts with ``amount_decimals`` digits after the point (the decimals of
the instrument's tick size and amount tick: ``decimals_of``), so a price on the tick grid is
written exactly and never as 100015.50000000001 (x * 10^decimals rounded half away from zero,
then its digits: the twin does the same arithmetic). No label (b"") leaves the key out. This replaces
building the same message as dicts and lists and serialising it; the twin
(kernels/twins/mass_quote.py) writes the same bytes.
"""
from libc.math cimport floor, isfinite
from libc.stdio cimport snprintf
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_FromStringAndSize
cimport numpy as cnp

from shm.records cimport MM_MAX_LEVELS, QuoteSet

from shm import records as R

cnp.import_array()

cdef int QUOTE_SIZE = R.QUOTE_DTYPE.itemsize
cdef unsigned short T_QUOTE_SET = R.QUOTE_SET
DEF BUF_SIZE = 4096
DEF MAX_DECIMALS_C = 12
MAX_DECIMALS = MAX_DECIMALS_C


def decimals_of(double step):
    """Digits after the point that write every multiple of ``step`` exactly (0.5 -> 1, 1 -> 0,
    0.001 -> 3); at most MAX_DECIMALS."""
    if not step > 0:
        raise ValueError(f"step={step}: expected a positive tick")
    cdef int d
    cdef double scaled
    for d in range(MAX_DECIMALS + 1):
        scaled = step * 10.0 ** d
        if abs(scaled - round(scaled)) <= 1e-9 * max(1.0, scaled):
            return d
    return MAX_DECIMALS


cdef inline Py_ssize_t put(char *buf, Py_ssize_t at, Py_ssize_t cap, const char *s,
                           Py_ssize_t n) noexcept nogil:
    if at < 0 or at + n > cap:
        return -1
    memcpy(buf + at, s, n)
    return at + n


cdef double POW10[MAX_DECIMALS_C + 1]
for _d in range(MAX_DECIMALS_C + 1):
    POW10[_d] = 10.0 ** _d


cdef inline Py_ssize_t put_number(char *buf, Py_ssize_t at, Py_ssize_t cap, double x,
                                  int decimals) noexcept nogil:
    """x with ``decimals`` digits after the point: x * 10^decimals rounded half away from zero
    (floor, then up when the rest is at least a half: exact in binary), then its digits."""
    cdef char digits[24]
    cdef int n = 0, i
    cdef double v, whole
    cdef unsigned long long r
    if at < 0 or not isfinite(x):
        return -1
    if x < 0.0:
        at = put(buf, at, cap, b"-", 1)
        x = -x
    v = x * POW10[decimals]
    if not v < 9.0e18:
        return -1
    whole = floor(v)
    r = <unsigned long long>whole
    if v - whole >= 0.5:
        r += 1
    while r or n <= decimals:          # at least one digit before the point
        digits[n] = <char>(48 + r % 10)
        r //= 10
        n += 1
    if at < 0 or at + n + 1 > cap:
        return -1
    for i in range(n - 1, -1, -1):
        buf[at] = digits[i]
        at += 1
        if i == decimals and decimals:
            buf[at] = 46                # "."
            at += 1
    return at


cdef Py_ssize_t put_side(char *buf, Py_ssize_t at, Py_ssize_t cap, const double *price,
                         const double *amount, int n, int pd, int ad) noexcept nogil:
    cdef int i
    at = put(buf, at, cap, b"[", 1)
    for i in range(n):
        at = put(buf, at, cap, b",[" if i else b"[", 2 if i else 1)
        at = put_number(buf, at, cap, price[i], pd)
        at = put(buf, at, cap, b",", 1)
        at = put_number(buf, at, cap, amount[i], ad)
        at = put(buf, at, cap, b"]", 1)
    return put(buf, at, cap, b"]", 1)


cdef Py_ssize_t mass_quote_c(const QuoteSet *q, long long rid, const char *name, Py_ssize_t name_len,
                             int price_decimals, int amount_decimals, const char *label,
                             Py_ssize_t label_len, char *buf, Py_ssize_t cap) noexcept nogil:
    cdef Py_ssize_t at = 0
    cdef int nb = 0, na = 0, n
    if q.type == T_QUOTE_SET:
        nb = q.n_bids if q.n_bids <= MM_MAX_LEVELS else MM_MAX_LEVELS
        na = q.n_asks if q.n_asks <= MM_MAX_LEVELS else MM_MAX_LEVELS
    at = put(buf, at, cap, b'{"method":"private/mass_quote","params":{"quotes":[{"i":"', 57)
    at = put(buf, at, cap, name, name_len)
    at = put(buf, at, cap, b'","b":', 6)
    at = put_side(buf, at, cap, q.bid_price, q.bid_amount, nb, price_decimals, amount_decimals)
    at = put(buf, at, cap, b',"a":', 5)
    at = put_side(buf, at, cap, q.ask_price, q.ask_amount, na, price_decimals, amount_decimals)
    at = put(buf, at, cap, b"}]", 2)
    if label_len:
        at = put(buf, at, cap, b',"label":"', 10)
        at = put(buf, at, cap, label, label_len)
        at = put(buf, at, cap, b'"', 1)
    at = put(buf, at, cap, b',"post_only":true},"id":', 24)
    if at < 0:
        return -1
    n = snprintf(buf + at, cap - at, b"%lld}", rid)
    if n < 0 or at + n >= cap:
        return -1
    return at + n


def encode_mass_quote(cnp.ndarray q not None, long long rid, bytes name not None, int price_decimals,
                      int amount_decimals, bytes label=b""):
    """The request for the first QuoteSet of ``q`` as bytes (``rid``: the request id).

    ``name`` and ``label`` are written as they are: plain ASCII without quotes or backslashes
    (instrument names and ``tt<us>`` labels are). Raises ValueError for a non-finite price or
    amount and for decimals outside 0..MAX_DECIMALS."""
    cdef char buf[BUF_SIZE]
    cdef Py_ssize_t n
    if cnp.PyArray_ITEMSIZE(q) != QUOTE_SIZE or not cnp.PyArray_IS_C_CONTIGUOUS(q) \
            or cnp.PyArray_SIZE(q) < 1:
        raise TypeError(f"q: expected a C-contiguous QuoteSet array ({QUOTE_SIZE}-byte records), "
                        f"got {q.dtype} x {q.size}")
    if not (0 <= price_decimals <= MAX_DECIMALS and 0 <= amount_decimals <= MAX_DECIMALS):
        raise ValueError(f"price_decimals={price_decimals}, amount_decimals={amount_decimals}: "
                         f"expected 0..{MAX_DECIMALS}")
    n = mass_quote_c(<const QuoteSet *>cnp.PyArray_DATA(q), rid, name, len(name), price_decimals,
                     amount_decimals, label, len(label), buf, BUF_SIZE)
    if n < 0:
        raise ValueError("mass_quote: a price or amount is not finite (or the message is longer "
                         f"than {BUF_SIZE} bytes)")
    return PyBytes_FromStringAndSize(buf, n)
