# From the model's bid/ask to N levels a side. Units: prices USD, amounts contracts.
from shm.records cimport MM_MAX_LEVELS

cdef struct LadderSpec:
    double tick               # price step, USD
    double amount_tick        # amount step, contracts
    double min_amount         # smallest order, contracts
    int levels                # levels per side, 1..MM_MAX_LEVELS
    double spacing_ticks      # distance between levels, ticks
    double min_spread         # total spread clamp, USD
    double max_spread
    double fee_pad            # added to each half-spread (maker fee), USD
    double base_size          # level-0 size before multipliers and shaping, contracts
    double eta                # inventory shaping, 1/contract: size x exp(-eta |q|) on the side that grows |q|
    double max_position       # |position| limit, contracts, counting open orders
    double multipliers[MM_MAX_LEVELS]  # per-level size multipliers
    double fade_start         # fraction of max_position where the growing side starts to fade
    double fade_ticks         # how far that side has stepped away when |q| reaches max_position

cdef void ladder_c(const LadderSpec *spec, double bid0, double ask0, double q,
                   double open_bid, double open_ask, double best_bid, double best_ask,
                   double *bid_price, double *bid_amount, int *n_bids,
                   double *ask_price, double *ask_amount, int *n_asks) noexcept nogil

cdef unsigned int keep_within_tolerance_c(int side, const double *old_price, const double *old_amount,
                                          int n_old, double *price, const double *amount, int n,
                                          double tol, double tick, double opposite_best) noexcept nogil
