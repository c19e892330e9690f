# A QuoteSet record as Thalex's private/mass_quote request, JSON bytes written straight from the
# record (no dicts, lists or JSON library on the way). Prices and amounts are written with the
# instrument's decimals (those of its tick size and amount tick).
from shm.records cimport QuoteSet

# ---- EGRESS ----
# Writes the request into buf (cap bytes); returns its length, or -1 when it does not fit or a
# price or amount is not finite.
cdef Py_ssize_t mass_quote_c(const QuoteSet *q, long long rid, const char *name, Py_ssize_t name_len,
                             int price_decimals, int amount_decimals, const char *label,
                             Py_ssize_t label_len, char *buf, Py_ssize_t cap) noexcept nogil
