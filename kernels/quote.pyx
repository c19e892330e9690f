"""The quoter's entry point: from the latest market record to a filled QuoteSet record.

Per call (:meth:`QuoteEngine.quote`): take the mid from the record (best bid/ask, or the mark
when one side of the book is empty), update sigma, the intensity exposure, the candle clock, the
markouts of our fills and the fast-cancel guard, refit A/k when due, tilt gamma/kappa/centre by
the candle signals, price level 0 with AS or GLFT, widen a side whose fills are being picked off
(markouts) and both while the guard settles, build the ladder (with quote fading near the
position limit), drop the side the guard pulls (flagged QUOTE_FLAG_FAST_CANCEL when it has just
triggered), keep levels that moved within the requote tolerance, and fill ``out``.

Returns an engine status: ENGINE_UNCHANGED (0: nothing moved beyond tolerance; publish nothing),
ENGINE_PUBLISHED (1: ``out`` is a new QUOTE_SET record) or ENGINE_PULLED (2: ``out`` is a
QUOTE_PULL record whose ``reason`` says why: stale data, no usable price, crossed book, bad
inventory, non-finite model output). A pull is reported once; the next good record publishes
again. Public trades go to :meth:`on_trade`.

Units: prices USD, amounts and inventory contracts, times from the record (ns) used in seconds.

The estimators run on one market clock (:attr:`QuoteEngine.market_time_s`, Unix seconds): the
record's exchange time where it advances, and our receive time since the previous record where
it does not, because Thalex computes the mark (and its ``mark_timestamp``) about once a second
while raw tickers arrive far more often. When a new exchange time falls behind that clock by more
than CLOCK_RESYNC_S (the clock was carried forward by a bogus stamp) the clock steps back to it;
every estimator copes with a step back (``clock_resyncs`` counts them).
"""
from libc.math cimport fabs, isfinite
from libc.string cimport memcpy, memset
cimport numpy as cnp

from shm.records cimport MM_MAX_LEVELS, MdRecord, QuoteSet, TradeRecord
from kernels.avellaneda cimport as_reservation_price, as_spread
from kernels.glft cimport glft_c1, glft_c2, glft_half_spread, glft_skew
from kernels.ladder cimport ladder_c, keep_within_tolerance_c
from kernels.guard cimport GUARD_CALM, GUARD_PULL_ASKS, GUARD_PULL_BIDS, GUARD_PULL_BOTH, MoveGuard
from kernels.markout cimport Markout

import numpy as np

from shm import records as R
from kernels.params import MARKOUT_HORIZONS

cnp.import_array()

# Engine statuses (what quote() did), apart from the record types QUOTE_SET / QUOTE_PULL it writes.
ENGINE_UNCHANGED, ENGINE_PUBLISHED, ENGINE_PULLED = 0, 1, 2
CLOCK_RESYNC_S = 5.0    # exchange time this far behind the market clock: follow it back
cdef double _CLOCK_RESYNC_S = CLOCK_RESYNC_S

cdef int MD_SIZE = R.MD_DTYPE.itemsize
cdef int QUOTE_SIZE = R.QUOTE_DTYPE.itemsize
cdef int TRADE_SIZE = R.TRADE_DTYPE.itemsize
cdef unsigned short T_QUOTE_SET = R.QUOTE_SET, T_QUOTE_PULL = R.QUOTE_PULL
cdef unsigned short FLAG_STALE = R.MD_FLAG_STALE, FLAG_IMPLAUSIBLE = R.MD_FLAG_IMPLAUSIBLE
cdef unsigned int REASON_STALE = R.QUOTE_REASON_STALE, REASON_NO_PRICE = R.QUOTE_REASON_NO_PRICE
cdef unsigned int REASON_IMPLAUSIBLE = R.QUOTE_REASON_IMPLAUSIBLE
cdef unsigned int REASON_CROSSED = R.QUOTE_REASON_CROSSED_BOOK, REASON_BAD_INPUT = R.QUOTE_REASON_BAD_INPUT
cdef unsigned int REASON_MODEL = R.QUOTE_REASON_MODEL
cdef unsigned int FLAG_FAST_CANCEL = R.QUOTE_FLAG_FAST_CANCEL
ESTIMATORS = {"vol": EwmaVariance, "intensity": IntensityEstimator, "candles": VolumeCandles,
              "guard": MoveGuard, "markout": Markout}


cdef inline bint usable(double price) noexcept nogil:
    return isfinite(price) and price > 0.0


cdef void *record_ptr(object arr, int size, str what) except NULL:
    if not isinstance(arr, cnp.ndarray) or cnp.PyArray_ITEMSIZE(arr) != size \
            or not cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_SIZE(arr) < 1:
        raise TypeError(f"{what}: expected a C-contiguous record array of {size}-byte records, "
                        f"got {type(arr).__name__} {getattr(arr, 'dtype', '')}")
    return cnp.PyArray_DATA(arr)


cdef class QuoteEngine:
    """Estimators + model + ladder for one instrument.

    ``tick_size`` USD, ``amount_tick`` and ``min_amount`` contracts; ``expiry_s`` the contract's
    expiry in Unix seconds for a dated future (AS then uses T - t), 0 for a perpetual (AS uses
    the rolling ``horizon_s``).
    """

    def __init__(self, params, double tick_size, double amount_tick, double min_amount,
                 double expiry_s=0.0):
        if not (tick_size > 0 and amount_tick > 0 and min_amount > 0):
            raise ValueError(f"tick_size={tick_size}, amount_tick={amount_tick}, "
                             f"min_amount={min_amount}: must be > 0")
        self.tick_size, self.amount_tick, self.min_amount = tick_size, amount_tick, min_amount
        self.expiry_s = expiry_s
        self.params = None
        self.set_params(params)
        self._last_n_bids = self._last_n_asks = 0
        self.pulled = False
        self.market_time_s = float("nan")
        self._receive_s = 0.0
        self._exchange_ts_ns = 0
        self.clock_resyncs = 0
        self.tolerance_scale = 1.0

    def set_params(self, params):
        """Take new parameters (validated). Estimators restart only when their own settings change."""
        p = params.validate()
        cdef int i
        old = self.params
        self.params = p
        self._glft = p.model == "glft"
        self._gamma, self._xi_zero, self._order_unit = p.gamma, p.glft_xi_zero, p.order_unit
        self._horizon_s = p.horizon_s
        self._use_candles, self._fee_aware, self._maker_fee_rate = p.candles, p.fee_aware, p.maker_fee_rate
        self._tolerance = p.requote_tolerance_ticks * self.tick_size
        self._c_gamma = self._c_kappa = self._c_a = float("nan")   # invalidate the model cache
        t = self.tick_size
        self._spec.tick, self._spec.amount_tick, self._spec.min_amount = t, self.amount_tick, self.min_amount
        self._spec.levels, self._spec.spacing_ticks = p.levels, p.level_spacing_ticks
        self._spec.min_spread, self._spec.max_spread = p.min_spread_ticks * t, p.max_spread_ticks * t
        self._spec.fee_pad, self._spec.base_size = 0.0, p.base_size
        self._spec.eta, self._spec.max_position = p.eta, p.max_position
        for i in range(MM_MAX_LEVELS):
            self._spec.multipliers[i] = p.size_multipliers[i] if i < p.levels else 0.0
        self._spec.fade_start, self._spec.fade_ticks = p.fade_start, p.fade_ticks
        self._fc_widen = p.fc_widen
        self._markout_widen, self._markout_threshold = p.markout_widen, p.markout_threshold
        self._markout_cap = p.markout_max_widen_ticks * t
        self._markout_h = MARKOUT_HORIZONS.index(p.markout_horizon_s)
        new = p.estimators_to_rebuild(old, t, ESTIMATORS)
        if "vol" in new:
            self.vol = new["vol"]
        if "intensity" in new:
            self.intensity = new["intensity"]
        if "candles" in new:
            self.candles = new["candles"]
        if "guard" in new:
            self.guard, self._guard_prev = new["guard"], GUARD_CALM
        if "markout" in new:
            self.markout = new["markout"]

    cpdef void on_trade(self, double price, double amount, int side, double t_s) noexcept:
        """A public trade: USD, contracts, +1 buyer-initiated / -1 seller / 0 unknown, seconds."""
        self.intensity.on_trade(price, side, t_s)
        self.candles.on_trade(price, amount, side, t_s)

    cpdef void on_fill(self, int side, double price, double t_s) noexcept:
        """One of our fills (side +1 bought / -1 sold, USD, s): its markouts start now."""
        self.markout.on_fill(side, price, t_s)

    def on_trade_record(self, trade):
        """The same from a TRADE_DTYPE record array (its first record)."""
        cdef TradeRecord *t = <TradeRecord *>record_ptr(trade, TRADE_SIZE, "trade")
        self.on_trade(t.price, t.amount, t.side, t.exchange_ts_ns * 1e-9)

    cpdef int quote(self, object md, double inventory, double open_bid, double open_ask, object out) except -1:
        """Fill ``out`` (QUOTE_DTYPE record array) from ``md`` (MD_DTYPE record array).

        ``inventory`` contracts (signed); ``open_bid``/``open_ask`` contracts on each side that may
        still fill besides this ladder (in flight, not yet replaced). Returns 0, 1 or 2 (above).
        """
        return self.quote_c(<const MdRecord *>record_ptr(md, MD_SIZE, "md"), inventory, open_bid,
                            open_ask, <QuoteSet *>record_ptr(out, QUOTE_SIZE, "out"))

    cdef int quote_c(self, const MdRecord *md, double inventory, double open_bid, double open_ask,
                     QuoteSet *out) noexcept:
        cdef double bb = md.best_bid_price, ba = md.best_ask_price, mid, t_s, sigma, gamma, kappa
        cdef double offset = 0.0, r, half, bid0, ask0, a, adverse
        cdef int n_bids, n_asks, gstate = GUARD_CALM
        cdef unsigned int reason = 0, mask

        if usable(bb) and usable(ba):
            mid = 0.5 * (bb + ba)
            if bb >= ba:
                reason = REASON_CROSSED
        elif usable(md.mark_price):
            mid = md.mark_price   # one side of the book is empty: the mark is the best fair value
        else:
            mid = 0.0
            reason = REASON_NO_PRICE
        if md.flags & FLAG_STALE:
            reason = REASON_IMPLAUSIBLE if md.flags & FLAG_IMPLAUSIBLE else REASON_STALE
        if reason:
            return self._pull(md, inventory, reason, out)
        t_s = self._market_time(md)
        sigma = self.vol.update(mid, t_s)
        self.intensity.on_mid(mid, t_s)
        self.intensity.maybe_refit(t_s)
        self.candles.on_time(t_s)
        self.markout.on_mid(mid, t_s)
        if self.guard is not None:
            gstate = self.guard.update(mid, t_s, sigma)
        if not (isfinite(inventory) and isfinite(open_bid) and isfinite(open_ask)
                and open_bid >= 0.0 and open_ask >= 0.0):
            return self._pull(md, inventory, REASON_BAD_INPUT, out)

        gamma, kappa, a = self._gamma, self.intensity.k, self.intensity.a
        if self._use_candles:
            # Candle tilts are bounded relative to the untilted half-spread.
            self._model(mid, 0.0, gamma, kappa, a, sigma, t_s, &r, &half)
            self.candles.adjust_c(gamma, kappa, half, &gamma, &kappa, &offset)
        self._model(mid + offset, inventory, gamma, kappa, a, sigma, t_s, &r, &half)
        if gstate != GUARD_CALM:
            half *= self._fc_widen        # the market just jumped: stay wide until it settles
        bid0, ask0 = r - half, r + half
        if self._markout_widen:
            # A side whose fills keep being followed by an adverse move steps away by the excess.
            adverse = -self.markout.average(1, self._markout_h) - self._markout_threshold
            if adverse > 0.0:
                bid0 -= adverse if adverse < self._markout_cap else self._markout_cap
            adverse = -self.markout.average(-1, self._markout_h) - self._markout_threshold
            if adverse > 0.0:
                ask0 += adverse if adverse < self._markout_cap else self._markout_cap
        if not (isfinite(bid0) and isfinite(ask0)):
            return self._pull(md, inventory, REASON_MODEL, out)

        self._spec.fee_pad = self._maker_fee_rate * mid if self._fee_aware else 0.0
        memset(out.bid_price, 0, sizeof(double) * 40)   # the four level arrays are contiguous
        ladder_c(&self._spec, bid0, ask0, inventory, open_bid, open_ask, bb, ba,
                 out.bid_price, out.bid_amount, &n_bids, out.ask_price, out.ask_amount, &n_asks)
        if gstate == GUARD_PULL_BIDS or gstate == GUARD_PULL_BOTH:
            n_bids = 0
        if gstate == GUARD_PULL_ASKS or gstate == GUARD_PULL_BOTH:
            n_asks = 0
        mask = keep_within_tolerance_c(1, self._last_bid_price, self._last_bid_amount, self._last_n_bids,
                                       out.bid_price, out.bid_amount, n_bids, self._tolerance * self.tolerance_scale,
                                       self.tick_size, ba)
        mask |= keep_within_tolerance_c(-1, self._last_ask_price, self._last_ask_amount, self._last_n_asks,
                                        out.ask_price, out.ask_amount, n_asks, self._tolerance * self.tolerance_scale,
                                        self.tick_size, bb)
        self._fill_header(md, inventory, T_QUOTE_SET, 0, out)
        out.n_bids, out.n_asks = n_bids, n_asks
        out.mid, out.reservation_price, out.half_spread = mid, r, half
        out.sigma, out.gamma, out.intensity_a, out.intensity_k = sigma, gamma, a, kappa
        if gstate != GUARD_CALM and self._guard_prev == GUARD_CALM:
            out.flags |= FLAG_FAST_CANCEL
        self._guard_prev = gstate
        if mask == 0 and not self.pulled:
            return ENGINE_UNCHANGED
        self.pulled = False
        memcpy(self._last_bid_price, out.bid_price, sizeof(double) * MM_MAX_LEVELS)
        memcpy(self._last_bid_amount, out.bid_amount, sizeof(double) * MM_MAX_LEVELS)
        memcpy(self._last_ask_price, out.ask_price, sizeof(double) * MM_MAX_LEVELS)
        memcpy(self._last_ask_amount, out.ask_amount, sizeof(double) * MM_MAX_LEVELS)
        self._last_n_bids, self._last_n_asks = n_bids, n_asks
        return ENGINE_PUBLISHED

    cdef double _market_time(self, const MdRecord *md) noexcept:
        # Seconds on the market clock (module doc). Only a changed exchange time is news: a mark
        # that stays put (once a second, or stalled) leaves the clock to our receive time.
        cdef double exchange_s = md.exchange_ts_ns * 1e-9, receive_s = md.receive_ts_ns * 1e-9
        cdef double t, step
        if not isfinite(self.market_time_s):
            t = exchange_s if md.exchange_ts_ns > 0 else receive_s
        else:
            step = receive_s - self._receive_s
            t = self.market_time_s + (step if step > 0.0 else 0.0)
            if md.exchange_ts_ns > 0 and md.exchange_ts_ns != self._exchange_ts_ns:
                if exchange_s > t:
                    t = exchange_s
                elif exchange_s < t - _CLOCK_RESYNC_S:
                    t = exchange_s
                    self.clock_resyncs += 1
        self.market_time_s = t
        self._receive_s = receive_s
        self._exchange_ts_ns = md.exchange_ts_ns
        return t

    cdef void _model(self, double fair, double q, double gamma, double kappa, double a, double sigma,
                     double t_s, double *r, double *half) noexcept:
        # Centre r and half-spread (USD) of level 0 from the chosen model. The sigma-free parts
        # (GLFT c1, c2; the AS intensity term) change only when gamma, kappa or A do: cached.
        cdef double xi, tau
        if gamma != self._c_gamma or kappa != self._c_kappa or a != self._c_a:
            self._c_gamma, self._c_kappa, self._c_a = gamma, kappa, a
            if self._glft:
                xi = 0.0 if self._xi_zero else gamma
                self._c1 = glft_c1(xi, kappa, self._order_unit)
                self._c2 = glft_c2(gamma, xi, a, kappa, self._order_unit)
            else:
                self._c1 = 0.5 * as_spread(gamma, 0.0, 0.0, kappa)
        if self._glft:
            half[0] = glft_half_spread(self._c1, self._c2, sigma, self._order_unit)
            r[0] = fair - glft_skew(self._c2, sigma) * q
        else:
            tau = self._tau(t_s)
            r[0] = as_reservation_price(fair, q, gamma, sigma, tau)
            half[0] = 0.5 * gamma * sigma * sigma * tau + self._c1

    cdef double _tau(self, double t_s) noexcept:
        cdef double tau
        if self.expiry_s > 0.0:
            tau = self.expiry_s - t_s
            return tau if tau > 0.0 else 0.0
        return self._horizon_s

    cdef void _fill_header(self, const MdRecord *md, double inventory, unsigned short kind,
                                  unsigned int reason, QuoteSet *out) noexcept:
        out.type = kind
        out.instrument_id = md.instrument_id
        out.md_seq = md.seq
        out.md_exchange_ts_ns = md.exchange_ts_ns
        out.md_receive_ts_ns = md.receive_ts_ns
        out.md_publish_ts_ns = md.publish_ts_ns
        out.inventory = inventory
        out.flags = 0
        out.reason = reason

    cdef int _pull(self, const MdRecord *md, double inventory, unsigned int reason, QuoteSet *out) noexcept:
        memset(out, 0, sizeof(QuoteSet))
        self._fill_header(md, inventory, T_QUOTE_PULL, reason, out)
        self._last_n_bids = self._last_n_asks = 0
        if self.pulled:
            return ENGINE_UNCHANGED
        self.pulled = True
        return ENGINE_PULLED

