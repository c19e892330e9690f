"""Pure-Python twin of backtest/core.pyx: the same replay core, line for line, for tests and as
the speed baseline. The rules are documented once, in backtest/__init__.py.

One timeline carries four kinds of happenings, as in hftbacktest: market data reaching us
(local_ts), our order reports reaching us, market data at the exchange (exch_ts) and our order
actions reaching the exchange (sent + entry latency). At equal times they run in that order.
"""
from __future__ import annotations

import math

import numpy as np

from shm import records as R
from backtest.events import (ACTION_AMEND, ACTION_CANCEL, ACTION_INSERT, ASK_DEPTH, BID_DEPTH, BUY_TRADE,
                             CLEAR, EVENT_DTYPE, EXCH, LOCAL, QUEUE_LOG_PROB, QUEUE_POWER, QUEUE_RISK_AVERSE,
                             REJECT_DUPLICATE_ID, REJECT_POST_ONLY, REJECT_UNKNOWN_ORDER, REPORT_ACK,
                             REPORT_AMENDED, REPORT_CANCELLED, REPORT_DTYPE, REPORT_FILL, REPORT_REJECT,
                             SELL_TRADE, STOP_DATA, STOP_END, STOP_QUOTE, STOP_REPORTS, STOP_UNTIL)

INF = 2**63 - 1


class _Order:
    __slots__ = ("oid", "side", "tick", "price", "leaves", "front", "cum")


class Core:
    """Exchange model + latency + local book + the quote engine's calls, for one instrument.

    tick USD, lot contracts (the amount tick), latencies ns, fee rates fractions of notional,
    requote_interval_ns 0 = a quote step after every market update that moved the local top of
    book. ``engine`` is a kernels.quote.QuoteEngine (or its twin) or None (no quote steps).
    """

    def __init__(self, tick, lot, queue_model=QUEUE_RISK_AVERSE, queue_power=2.0, partial=False,
                 entry_ns=0, response_ns=0, maker_fee=0.0, taker_fee=0.0, requote_interval_ns=0,
                 engine=None):
        self.tick, self.lot, self.qm, self.power, self.partial = tick, lot, queue_model, queue_power, partial
        self.entry_ns, self.response_ns = int(entry_ns), int(response_ns)
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.interval = int(requote_interval_ns)
        self.engine = engine
        self.buf = np.zeros(0, EVENT_DTYPE)
        self.ie = self.il = 0
        self.eof = False
        self.ex_bids, self.ex_asks = {}, {}          # exchange book: tick -> qty
        self.ex_bb, self.ex_ba = -INF, INF
        self.lo_bids, self.lo_asks = {}, {}          # what we have received
        self.lo_bb, self.lo_ba = -INF, INF
        self.orders = {}                             # oid -> _Order at the exchange
        self.to_exch = []                            # [arrival ts, action, oid, side, price, amount, post_only]
        self.to_local = []                           # report tuples in REPORT_DTYPE order
        self.reports = []
        self.now = 0
        self.step_pending, self.step_ts, self.next_timer = False, 0, 0
        self.last_exch_ts = 0
        self.inventory = 0.0
        self.md = np.zeros(1, R.MD_DTYPE)
        self.quote = np.zeros(1, R.QUOTE_DTYPE)
        self.quote_status = 0
        self.md_seq = 0
        self.events = 0

    # ---- input ------------------------------------------------------------------------------
    def feed(self, events, eof=False):
        """Append a chunk of EVENT_DTYPE records (sorted by exch_ts); ``eof`` when it is the last."""
        keep = min(self.ie, self.il)
        self.buf = np.concatenate((self.buf[keep:], events))
        self.ie -= keep
        self.il -= keep
        self.eof = eof

    def submit(self, action, oid, side, price, amount, local_ts, post_only=True):
        """Send an order action at ``local_ts`` (ns); it reaches the exchange entry_ns later."""
        self.to_exch.append((local_ts + self.entry_ns, action, oid, side, price, amount, post_only))

    def take_reports(self):
        out = np.array(self.reports, dtype=REPORT_DTYPE) if self.reports else np.zeros(0, REPORT_DTYPE)
        self.reports = []
        return out

    def local_best(self):
        """(bid, bid qty, ask, ask qty) as we have received them; NaN for an empty side."""
        bb = self.lo_bb * self.tick if self.lo_bids else math.nan
        ba = self.lo_ba * self.tick if self.lo_asks else math.nan
        return bb, self.lo_bids.get(self.lo_bb, 0.0), ba, self.lo_asks.get(self.lo_ba, 0.0)

    # ---- the loop ----------------------------------------------------------------------------
    def run(self, until):
        buf = self.buf
        n = len(buf)
        while True:
            il, ie = self.il, self.ie
            while il < n and not buf[il]["flags"] & LOCAL:
                il += 1
            while ie < n and not buf[ie]["flags"] & EXCH:
                ie += 1
            self.il, self.ie = il, ie
            if (ie >= n or il >= n) and not self.eof:
                return STOP_DATA
            t_ld = int(buf[il]["local_ts"]) if il < n else INF
            t_lo = self.to_local[0][1] if self.to_local else INF
            t_ed = int(buf[ie]["exch_ts"]) if ie < n else INF
            t_eo = self.to_exch[0][0] if self.to_exch else INF
            t_local = min(t_ld, t_lo)
            if self.step_pending and t_local > self.step_ts:
                if self.reports:
                    return STOP_REPORTS
                self.step_pending = False
                if self._step(self.step_ts):
                    return STOP_QUOTE
                continue
            t = min(t_local, t_ed, t_eo)
            if t == INF:
                if self.eof:
                    return STOP_END
            if self.interval and self.next_timer and self.next_timer < t and self.next_timer <= until:
                self.step_pending, self.step_ts = True, self.next_timer
                self.next_timer += self.interval
                continue
            if t > until:
                self.now = max(self.now, until)
                return STOP_UNTIL
            if t_ld == t:
                self.now = t
                self._local_data(buf[il])
                self.il = il + 1
            elif t_lo == t:
                self.now = t
                self.reports.append(self.to_local.pop(0))
            elif t_ed == t:
                self.events += 1
                self._exch_data(buf[ie])
                self.ie = ie + 1
            else:
                self._exch_order(self.to_exch.pop(0))

    def _local_data(self, ev):
        kind, tick, qty = int(ev["kind"]), round(float(ev["price"]) / self.tick), float(ev["qty"])
        self.last_exch_ts = int(ev["exch_ts"])
        top = (self.lo_bb, self.lo_ba, self.lo_bids.get(self.lo_bb), self.lo_asks.get(self.lo_ba))
        if kind == BID_DEPTH:
            self.lo_bb = _set_level(self.lo_bids, tick, qty, self.lo_bb, True)
        elif kind == ASK_DEPTH:
            self.lo_ba = _set_level(self.lo_asks, tick, qty, self.lo_ba, False)
        elif kind == BUY_TRADE or kind == SELL_TRADE:
            if self.engine is not None:
                self.engine.on_trade(float(ev["price"]), qty, 1 if kind == BUY_TRADE else -1,
                                     self.last_exch_ts * 1e-9)
            return
        elif kind == CLEAR:
            self.lo_bids.clear()
            self.lo_asks.clear()
            self.lo_bb, self.lo_ba = -INF, INF
        if self.engine is None:
            return
        if self.interval:
            if not self.next_timer:
                self.next_timer = (self.now // self.interval + 1) * self.interval
        elif top != (self.lo_bb, self.lo_ba, self.lo_bids.get(self.lo_bb), self.lo_asks.get(self.lo_ba)):
            self.step_pending, self.step_ts = True, self.now

    def _step(self, ts):
        """One call of the live QuoteEngine on the local top of book; True when it has news."""
        md = self.md
        bb, bq, ba, aq = self.local_best()
        self.md_seq += 1
        md["type"] = R.MD_BOOK
        md["seq"] = self.md_seq
        md["exchange_ts_ns"] = self.last_exch_ts + (ts - self.now if ts > self.now else 0)
        md["receive_ts_ns"] = ts
        md["best_bid_price"], md["best_bid_amount"] = bb, bq
        md["best_ask_price"], md["best_ask_amount"] = ba, aq
        md["mark_price"] = 0.5 * (bb + ba) if bq and aq else math.nan
        self.now = max(self.now, ts)
        self.quote_status = self.engine.quote(md, self.inventory, 0.0, 0.0, self.quote)
        return self.quote_status != 0

    # ---- the exchange --------------------------------------------------------------------------
    def _exch_data(self, ev):
        kind, price, qty, ts = int(ev["kind"]), float(ev["price"]), float(ev["qty"]), int(ev["exch_ts"])
        tick = round(price / self.tick)
        if kind == BID_DEPTH:
            prev_best, prev = self.ex_bb, self.ex_bids.get(tick, 0.0)
            self.ex_bb = _set_level(self.ex_bids, tick, qty, self.ex_bb, True)
            for o in list(self.orders.values()):
                if o.side == 1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex_bb > prev_best:
                for o in list(self.orders.values()):
                    if o.side == -1 and o.tick <= self.ex_bb:
                        self._fill(o, o.leaves, ts, o.price, True)
        elif kind == ASK_DEPTH:
            prev_best, prev = self.ex_ba, self.ex_asks.get(tick, 0.0)
            self.ex_ba = _set_level(self.ex_asks, tick, qty, self.ex_ba, False)
            for o in list(self.orders.values()):
                if o.side == -1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if self.ex_ba < prev_best:
                for o in list(self.orders.values()):
                    if o.side == 1 and o.tick >= self.ex_ba:
                        self._fill(o, o.leaves, ts, o.price, True)
        elif kind == BUY_TRADE or kind == SELL_TRADE:
            hit = -1 if kind == BUY_TRADE else 1          # the side of ours a trade can fill
            for o in list(self.orders.values()):
                if o.side != hit:
                    continue
                if (o.tick - tick) * hit > 0:              # the trade went through our price
                    self._fill(o, o.leaves if not self.partial else min(o.leaves, qty), ts, o.price, True)
                elif o.tick == tick:
                    self._queue_trade(o, qty)
                    done = self._queue_filled(o)
                    if done > 0:
                        self._fill(o, o.leaves if not self.partial else min(o.leaves, done), ts, o.price, True)
        elif kind == CLEAR:
            self.ex_bids.clear()
            self.ex_asks.clear()
            self.ex_bb, self.ex_ba = -INF, INF

    def _exch_order(self, item):
        ts, action, oid, side, price, amount, post_only = item
        if action == ACTION_CANCEL:
            o = self.orders.pop(oid, None)
            if o is None:
                return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_UNKNOWN_ORDER)
            return self._respond(REPORT_CANCELLED, ts, oid, o.side, o.price, o.leaves, 0.0, 0.0, 0, 0)
        if action == ACTION_AMEND:
            o = self.orders.get(oid)
            if o is None:
                return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_UNKNOWN_ORDER)
            tick = round(price / self.tick)
            if tick == o.tick and amount <= o.leaves + 1e-12:   # same price, not larger: keeps its place
                o.leaves = amount
                return self._respond(REPORT_AMENDED, ts, oid, o.side, o.price, amount, amount, 0.0, 0, 0)
            del self.orders[oid]                               # otherwise: a new order at the back
            return self._new(ts, oid, o.side, price, amount, post_only, REPORT_AMENDED)
        if oid in self.orders:
            return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_DUPLICATE_ID)
        return self._new(ts, oid, side, price, amount, post_only, REPORT_ACK)

    def _new(self, ts, oid, side, price, amount, post_only, ack):
        tick = round(price / self.tick)
        crosses = (side == 1 and self.ex_asks and tick >= self.ex_ba) or \
                  (side == -1 and self.ex_bids and tick <= self.ex_bb)
        if crosses:
            if post_only:
                return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_POST_ONLY)
            best = (self.ex_ba if side == 1 else self.ex_bb) * self.tick   # taker: all at the best price
            return self._respond(REPORT_FILL, ts, oid, side, best, amount, 0.0,
                                 self.taker_fee * best * amount, 0, 0)
        o = _Order()
        o.oid, o.side, o.tick, o.price, o.leaves, o.cum = oid, side, tick, price, amount, 0.0
        o.front = (self.ex_bids if side == 1 else self.ex_asks).get(tick, 0.0)
        self.orders[oid] = o
        self._respond(ack, ts, oid, side, price, amount, amount, 0.0, 0, 0)

    def _fill(self, o, amount, ts, price, maker):
        o.leaves -= amount
        if o.leaves <= self.lot * 1e-6:
            o.leaves = 0.0
            del self.orders[o.oid]
        self._respond(REPORT_FILL, ts, o.oid, o.side, price, amount, o.leaves,
                      (self.maker_fee if maker else self.taker_fee) * price * amount, 1 if maker else 0, 0)

    def _respond(self, kind, ts, oid, side, price, amount, leaves, fee, maker, reason):
        self.to_local.append((ts, ts + self.response_ns, oid, price, amount, leaves, fee, kind, side, maker, reason))

    # ---- queue position (ahead of us = ``front``, contracts) -----------------------------------
    def _queue_trade(self, o, qty):
        o.front -= qty
        o.cum += qty

    def _queue_depth(self, o, prev, new):
        if self.qm == QUEUE_RISK_AVERSE:
            o.front = min(o.front, new)
            return
        chg = prev - new - o.cum
        o.cum = 0.0
        if chg < 0:
            o.front = min(o.front, new)
            return
        front, back = o.front, prev - o.front
        if self.qm == QUEUE_POWER:
            fb, ff = _pow(back, self.power), _pow(front, self.power)
        else:
            fb, ff = _log1p(back), _log1p(front)
        prob = _ratio(fb, fb + ff)
        if math.isinf(prob):
            prob = 1.0
        est = front - (1.0 - prob) * chg + _ieee_min(back - prob * chg, 0.0)
        o.front = _ieee_min(est, new)

    def _queue_filled(self, o):
        ex = math.floor(-o.front / self.lot + 0.5)
        if ex > 0:
            o.front = 0.0
            return ex * self.lot
        return 0.0


def _ieee_min(a, b):
    """Rust's f64::min (and the compiled core's): a NaN operand yields the other one."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return a if a < b else b


def _ratio(a, b):
    """a / b with IEEE semantics (x/0 = +-inf, 0/0 = NaN), as the compiled core computes it."""
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _log1p(x):
    return math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan)


def _pow(x, n):
    try:
        return math.pow(x, n)          # C pow: a negative base with a fractional power is NaN
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf


def _set_level(levels, tick, qty, best, is_bid):
    """Set one level of a book side; returns the new best tick."""
    if qty > 0:
        levels[tick] = qty
        if (is_bid and tick > best) or (not is_bid and tick < best):
            return tick
        return best
    levels.pop(tick, None)
    if tick == best:
        if not levels:
            return -INF if is_bid else INF
        return max(levels) if is_bid else min(levels)
    return best
