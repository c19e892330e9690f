"""Pure-Python twin of kernels/quote.pyx (the call is described there)."""
import math

import numpy as np

from shm import records as R
from kernels.params import MARKOUT_HORIZONS
from kernels.twins.avellaneda import as_reservation_price, as_spread
from kernels.twins.candles import VolumeCandles
from kernels.twins.glft import glft_c1, glft_c2, glft_half_spread, glft_skew
from kernels.twins.guard import GUARD_CALM, GUARD_PULL_ASKS, GUARD_PULL_BIDS, GUARD_PULL_BOTH, MoveGuard
from kernels.twins.markout import Markout
from kernels.twins.intensity import IntensityEstimator
from kernels.twins.ladder import build_ladder, keep_within_tolerance
from kernels.twins.volatility import EwmaVariance

# Engine statuses (what quote() did), apart from the record types QUOTE_SET / QUOTE_PULL it writes.
ENGINE_UNCHANGED, ENGINE_PUBLISHED, ENGINE_PULLED = 0, 1, 2
N = R.MAX_LEVELS
CLOCK_RESYNC_S = 5.0
ESTIMATORS = {"vol": EwmaVariance, "intensity": IntensityEstimator, "candles": VolumeCandles,
              "guard": MoveGuard, "markout": Markout}


def _usable(price):
    return math.isfinite(price) and price > 0.0


def _record(arr, dtype, what):
    if not isinstance(arr, np.ndarray) or arr.dtype.itemsize != dtype.itemsize or arr.size < 1 \
            or not arr.flags.c_contiguous:
        raise TypeError(f"{what}: expected a C-contiguous record array of {dtype.itemsize}-byte "
                        f"records, got {type(arr).__name__} {getattr(arr, 'dtype', '')}")
    return arr.reshape(-1)[0]


class QuoteEngine:
    def __init__(self, params, tick_size, amount_tick, min_amount, expiry_s=0.0):
        if not (tick_size > 0 and amount_tick > 0 and min_amount > 0):
            raise ValueError(f"tick_size={tick_size}, amount_tick={amount_tick}, "
                             f"min_amount={min_amount}: must be > 0")
        self.tick_size, self.amount_tick, self.min_amount = tick_size, amount_tick, min_amount
        self.expiry_s = expiry_s
        self.params = None
        self.set_params(params)
        self._last = {"bid": ([0.0] * N, [0.0] * N, 0), "ask": ([0.0] * N, [0.0] * N, 0)}
        self.pulled = False
        self.market_time_s = math.nan
        self._receive_s = 0.0
        self._exchange_ts_ns = 0
        self.clock_resyncs = 0
        self.tolerance_scale = 1.0     # x requote_tolerance_ticks (the quoter widens it on a low budget)

    def set_params(self, params):
        p = params.validate()
        old, self.params = self.params, p
        t = self.tick_size
        new = p.estimators_to_rebuild(old, t, ESTIMATORS)
        for name, obj in new.items():
            setattr(self, name, obj)
        if "guard" in new:
            self._guard_prev = GUARD_CALM

    def on_trade(self, price, amount, side, t_s):
        self.intensity.on_trade(price, side, t_s)
        self.candles.on_trade(price, amount, side, t_s)

    def on_fill(self, side, price, t_s):
        self.markout.on_fill(side, price, t_s)

    def on_trade_record(self, trade):
        t = _record(trade, R.TRADE_DTYPE, "trade")
        self.on_trade(float(t["price"]), float(t["amount"]), int(t["side"]), int(t["exchange_ts_ns"]) * 1e-9)

    def _model(self, fair, q, gamma, kappa, a, sigma, t_s):
        p = self.params
        if p.model == "glft":
            xi = 0.0 if p.glft_xi_zero else gamma
            c2 = glft_c2(gamma, xi, a, kappa, p.order_unit)
            half = glft_half_spread(glft_c1(xi, kappa, p.order_unit), c2, sigma, p.order_unit)
            return fair - glft_skew(c2, sigma) * q, half
        tau = max(self.expiry_s - t_s, 0.0) if self.expiry_s > 0.0 else p.horizon_s
        return as_reservation_price(fair, q, gamma, sigma, tau), 0.5 * as_spread(gamma, sigma, tau, kappa)

    def quote(self, md, inventory, open_bid, open_ask, out):
        m = _record(md, R.MD_DTYPE, "md")
        o = _record(out, R.QUOTE_DTYPE, "out")
        p = self.params
        bb, ba = float(m["best_bid_price"]), float(m["best_ask_price"])
        reason = 0
        if _usable(bb) and _usable(ba):
            mid = 0.5 * (bb + ba)
            if bb >= ba:
                reason = R.QUOTE_REASON_CROSSED_BOOK
        elif _usable(float(m["mark_price"])):
            mid = float(m["mark_price"])
        else:
            mid, reason = 0.0, R.QUOTE_REASON_NO_PRICE
        if int(m["flags"]) & R.MD_FLAG_STALE:
            reason = (R.QUOTE_REASON_IMPLAUSIBLE if int(m["flags"]) & R.MD_FLAG_IMPLAUSIBLE
                      else R.QUOTE_REASON_STALE)
        if reason:
            return self._pull(m, inventory, reason, o)
        t_s = self._market_time(int(m["exchange_ts_ns"]), int(m["receive_ts_ns"]))
        sigma = self.vol.update(mid, t_s)
        self.intensity.on_mid(mid, t_s)
        self.intensity.maybe_refit(t_s)
        self.candles.on_time(t_s)
        self.markout.on_mid(mid, t_s)
        gstate = self.guard.update(mid, t_s, sigma) if self.guard is not None else GUARD_CALM
        if not (math.isfinite(inventory) and math.isfinite(open_bid) and math.isfinite(open_ask)
                and open_bid >= 0.0 and open_ask >= 0.0):
            return self._pull(m, inventory, R.QUOTE_REASON_BAD_INPUT, o)

        gamma, kappa, a = p.gamma, self.intensity.k, self.intensity.a
        offset = 0.0
        if p.candles:
            _, half = self._model(mid, 0.0, gamma, kappa, a, sigma, t_s)
            gamma, kappa, offset = self.candles.adjust(gamma, kappa, half)
        r, half = self._model(mid + offset, inventory, gamma, kappa, a, sigma, t_s)
        if gstate != GUARD_CALM:
            half *= p.fc_widen
        bid0, ask0 = r - half, r + half
        if p.markout_widen:
            h = MARKOUT_HORIZONS.index(p.markout_horizon_s)
            cap = p.markout_max_widen_ticks * self.tick_size
            adverse = -self.markout.average(1, h) - p.markout_threshold
            if adverse > 0.0:
                bid0 -= min(adverse, cap)
            adverse = -self.markout.average(-1, h) - p.markout_threshold
            if adverse > 0.0:
                ask0 += min(adverse, cap)
        if not (math.isfinite(bid0) and math.isfinite(ask0)):
            return self._pull(m, inventory, R.QUOTE_REASON_MODEL, o)

        t = self.tick_size
        bp, bamt, ap, aamt = [0.0] * N, [0.0] * N, [0.0] * N, [0.0] * N
        n_bids, n_asks = build_ladder(
            bid0, ask0, inventory, open_bid, open_ask, bb, ba, tick=t, amount_tick=self.amount_tick,
            min_amount=self.min_amount, levels=p.levels, spacing_ticks=p.level_spacing_ticks,
            min_spread=p.min_spread_ticks * t, max_spread=p.max_spread_ticks * t,
            fee_pad=p.maker_fee_rate * mid if p.fee_aware else 0.0, base_size=p.base_size,
            multipliers=p.size_multipliers, eta=p.eta, max_position=p.max_position,
            bid_price=bp, bid_amount=bamt, ask_price=ap, ask_amount=aamt, fade_start=p.fade_start,
            fade_ticks=p.fade_ticks)
        if gstate in (GUARD_PULL_BIDS, GUARD_PULL_BOTH):
            n_bids = 0
        if gstate in (GUARD_PULL_ASKS, GUARD_PULL_BOTH):
            n_asks = 0
        tol = p.requote_tolerance_ticks * t * self.tolerance_scale
        lbp, lba, lnb = self._last["bid"]
        lap, laa, lna = self._last["ask"]
        mask = keep_within_tolerance(1, lbp, lba, lnb, bp, bamt, n_bids, tol, t, ba)
        mask |= keep_within_tolerance(-1, lap, laa, lna, ap, aamt, n_asks, tol, t, bb)
        self._header(m, inventory, R.QUOTE_SET, 0, o)
        o["n_bids"], o["n_asks"] = n_bids, n_asks
        o["bid_price"], o["bid_amount"], o["ask_price"], o["ask_amount"] = bp, bamt, ap, aamt
        o["mid"], o["reservation_price"], o["half_spread"] = mid, r, half
        o["sigma"], o["gamma"], o["intensity_a"], o["intensity_k"] = sigma, gamma, a, kappa
        if gstate != GUARD_CALM and self._guard_prev == GUARD_CALM:
            o["flags"] = int(o["flags"]) | R.QUOTE_FLAG_FAST_CANCEL
        self._guard_prev = gstate
        if mask == 0 and not self.pulled:
            return ENGINE_UNCHANGED
        self.pulled = False
        self._last = {"bid": (bp, bamt, n_bids), "ask": (ap, aamt, n_asks)}
        return ENGINE_PUBLISHED

    def _market_time(self, exchange_ns, receive_ns):
        exchange_s, receive_s = exchange_ns * 1e-9, receive_ns * 1e-9
        if not math.isfinite(self.market_time_s):
            t = exchange_s if exchange_ns > 0 else receive_s
        else:
            t = self.market_time_s + max(receive_s - self._receive_s, 0.0)
            if exchange_ns > 0 and exchange_ns != self._exchange_ts_ns:
                if exchange_s > t:
                    t = exchange_s
                elif exchange_s < t - CLOCK_RESYNC_S:
                    t = exchange_s
                    self.clock_resyncs += 1
        self.market_time_s, self._receive_s, self._exchange_ts_ns = t, receive_s, exchange_ns
        return t

    @staticmethod
    def _header(m, inventory, kind, reason, o):
        o["type"] = kind
        o["instrument_id"] = m["instrument_id"]
        o["md_seq"] = m["seq"]
        o["md_exchange_ts_ns"] = m["exchange_ts_ns"]
        o["md_receive_ts_ns"] = m["receive_ts_ns"]
        o["md_publish_ts_ns"] = m["publish_ts_ns"]
        o["inventory"] = inventory
        o["flags"] = 0
        o["reason"] = reason

    def _pull(self, m, inventory, reason, o):
        for name in R.QUOTE_DTYPE.names:
            o[name] = 0
        self._header(m, inventory, R.QUOTE_PULL, reason, o)
        self._last = {"bid": ([0.0] * N, [0.0] * N, 0), "ask": ([0.0] * N, [0.0] * N, 0)}
        if self.pulled:
            return ENGINE_UNCHANGED
        self.pulled = True
        return ENGINE_PULLED

