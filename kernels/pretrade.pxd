# Pre-trade checks on a QuoteSet, in place: what may reach the exchange (the gateway runs them on
# every ladder it sends; risk and the backtest run the same checks). Units: prices USD, amounts
# contracts, notional USD, price band basis points of the mark.
from shm.records cimport QuoteSet

cdef struct PretradeLimits:
    double max_position      # contracts, counting position, open orders and the ladder
    double max_notional      # USD at the mark, counted the same way
    double max_order_size    # contracts per level
    double price_band_bps    # of the mark
    double amount_tick       # contracts
    double min_amount        # contracts

cdef struct SideCaps:
    double bid, ask                     # contracts a side may add in all (INFINITY = no cap)
    unsigned int bid_reason, ask_reason # the RISK_* bit when the cap binds

# ---- PRE-TRADE CHECKS ----
# DENIALS    block != 0 (paused, halted, risk silent...) -> the set becomes a PULL with those bits
# PRICE      a level beyond price_band_bps of the mark is dropped, and those beyond it
# SIZE       a level above max_order_size is cut to it
# REDUCING   the side that would grow |position| is dropped
# POSITION   position + open orders on the side + the side's cumulative amount <= max_position
# NOTIONAL   the same in USD at the mark <= max_notional
# CAPS       the side's cumulative amount <= caps.bid / caps.ask (the portfolio's limits)
# Returns the reason bits added (also or-ed into q.reason).
cdef unsigned int pretrade_check(QuoteSet *q, const PretradeLimits *lim, double position_bid,
                                 double position_ask, double mark, unsigned int block, bint reducing,
                                 double open_bid, double open_ask, const SideCaps *caps) noexcept nogil
