"""Pure-Python twin of backtest/core.pyx: the same replay core, line for line, for tests and as
the speed baseline (the book in backtest/book_twin.py, our order table in ladder_orders.py). The
rules are documented once, in backtest/__init__.py.

One timeline carries four kinds of happenings, as in hftbacktest: market data reaching us
(local_ts), our order reports reaching us, market data at the exchange (exch_ts) and our order
actions reaching the exchange (sent + entry latency). At equal times they run in that order.
"""
from __future__ import annotations

import math

import numpy as np

from kernels.twins.pretrade import pretrade_approve
from shm import records as R
from backtest.book_twin import NEG, POS, Book, to_tick
from backtest.events import (ACTION_AMEND, ACTION_CANCEL, ASK_CLEAR, ASK_DEPTH, BID_CLEAR, BID_DEPTH, BUY_TRADE,
                             EVENT_DTYPE, EXCH, LOCAL, MAX_ORDERS, QUEUE_POWER, QUEUE_RISK_AVERSE,
                             REJECT_DUPLICATE_ID, REJECT_POST_ONLY, REJECT_TOO_MANY, REJECT_UNKNOWN_ORDER, REPORT_ACK,
                             REPORT_AMENDED, REPORT_CANCELLED, REPORT_DTYPE, REPORT_FILL, REPORT_REJECT,
                             SELL_TRADE, STOP_DATA, STOP_END, STOP_QUOTE, STOP_REPORTS, STOP_UNTIL)
from backtest.ladder_orders import OrderTable, fmt_num

MD_ROW_NS = 100_000_000        # md.csv: the local top of book at most this often (ns)

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
                 engine=None, mass_quote=True, first_oid=101):
        self.tick, self.lot, self.qm, self.power, self.partial = tick, lot, queue_model, queue_power, partial
        self.entry_ns, self.response_ns = int(entry_ns), int(response_ns)
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.interval = int(requote_interval_ns)
        self.engine = engine
        self.buf = np.zeros(0, EVENT_DTYPE)
        self.ie = self.il = 0
        self.eof = False
        self.ex = Book(tick, lot)                    # the exchange's book
        self.lo = Book(tick, lot)                    # what we have received
        self.orders = {}                             # oid -> _Order at the exchange
        self.to_exch = []                            # [arrival ts, action, oid, side, price, amount, post_only]
        self.to_local = []                           # report tuples in REPORT_DTYPE order
        self.reports = []
        self.fills_only = False
        self.table = OrderTable(tick, mass_quote, self._send, first_oid)
        self.n_quotes = [0, 0]                       # ladders, pulls
        self.text = {"quotes": [], "md": []}
        self.next_md_ns = 0
        self.mass_quote = mass_quote
        self.now = 0
        self.step_pending, self.step_ts, self.next_timer = False, 0, 0
        self.last_exch_ts = 0
        self.inventory = 0.0
        self.pretrade_limits = None    # set_pretrade: the live checks run here on each new ladder
        self.block, self.reducing = 0, False
        self.last_sigma = math.nan
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

    @property
    def n_reports(self):
        return len(self.reports)

    def take_reports(self):
        """The answers that reached us since the last call (only fills when ``fills_only``)."""
        out = np.array(self.reports, dtype=REPORT_DTYPE) if self.reports else np.zeros(0, REPORT_DTYPE)
        self.reports = []
        return out

    def local_best(self):
        """(bid, bid qty, ask, ask qty) as we have received them; NaN for an empty side."""
        lo = self.lo
        bb = lo.best_bid * self.tick if lo.best_bid != NEG else math.nan
        ba = lo.best_ask * self.tick if lo.best_ask != POS else math.nan
        return bb, lo.bids.get(lo.best_bid, 0.0), ba, lo.asks.get(lo.best_ask, 0.0)

    def local_mid(self) -> float:
        """The mid of the book as we have received it (USD), 0 while a side is empty."""
        lo = self.lo
        if lo.best_bid == NEG or lo.best_ask == POS:
            return 0.0
        return 0.5 * (lo.best_bid * self.tick + lo.best_ask * self.tick)

    # ---- our side (ladder_orders.OrderTable) --------------------------------------------------
    def _send(self, action, oid, side, price, amount):
        self.submit(action, oid, side, price, amount, self.now, True)

    def apply_ladder(self, q):
        """Move our orders towards the approved QUOTE_DTYPE record ``q`` (a pull: none), now."""
        r = q[0]
        full = int(r["type"]) == R.QUOTE_SET
        nb, na = (int(r["n_bids"]), int(r["n_asks"])) if full else (0, 0)
        self.table.apply(list(zip(r["bid_price"][:nb].tolist(), r["bid_amount"][:nb].tolist())),
                         list(zip(r["ask_price"][:na].tolist(), r["ask_amount"][:na].tolist())), self.now)

    def set_pretrade(self, limits):
        """As core.pyx: the pre-trade checks on every new ladder, here, and no STOP_QUOTE."""
        self.pretrade_limits = tuple(limits)

    def _approve_and_apply(self):
        b, a = self.table.open_amounts()
        q = self.quote
        pretrade_approve(q, self.pretrade_limits, self.inventory, self.inventory, float(q["mid"][0]),
                         self.block, self.reducing, b, a)
        self.apply_ladder(q)

    def cancel_all(self):
        self.table.apply([], [], self.now)

    def open_amounts(self):
        return self.table.open_amounts()

    def has_orders(self):
        return bool(self.table.mine)

    def counts(self):
        return {**self.table.counts, "ladders": self.n_quotes[0], "pulls": self.n_quotes[1]}

    @property
    def next_oid(self):
        return self.table.next_oid

    @property
    def log_rows(self):
        return self.table.log_rows

    @log_rows.setter
    def log_rows(self, value):
        self.table.log_rows = value

    def take_rows(self):
        return self.table.take_rows()

    def _deliver(self, r):
        self.table.deliver(r, self.now)
        if not self.fills_only or r[7] == REPORT_FILL:
            self.reports.append(r)

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
                    if self.pretrade_limits is None:
                        return STOP_QUOTE
                    self._approve_and_apply()
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
                self._deliver(self.to_local.pop(0))
            elif t_ed == t:
                self.events += 1
                self._exch_data(buf[ie])
                self.ie = ie + 1
            else:
                self._exch_order(self.to_exch.pop(0))

    def _local_data(self, ev):
        kind, qty = int(ev["kind"]), float(ev["qty"])
        lo = self.lo
        self.last_exch_ts = int(ev["exch_ts"])
        top = (lo.best_bid, lo.best_ask, lo.bids.get(lo.best_bid, 0.0), lo.asks.get(lo.best_ask, 0.0))
        if kind == BID_DEPTH:
            lo.update_bid(to_tick(float(ev["price"]), self.tick), qty)
        elif kind == ASK_DEPTH:
            lo.update_ask(to_tick(float(ev["price"]), self.tick), qty)
        elif kind == BUY_TRADE or kind == SELL_TRADE:
            if self.engine is not None:
                self.engine.on_trade(float(ev["price"]), qty, 1 if kind == BUY_TRADE else -1,
                                     self.last_exch_ts * 1e-9)
            return
        else:
            lo.clear(1 if kind == BID_CLEAR else (-1 if kind == ASK_CLEAR else 0), float(ev["price"]))
        if self.engine is None:
            return
        if self.interval:
            if not self.next_timer:
                self.next_timer = (self.now // self.interval + 1) * self.interval
        elif top != (lo.best_bid, lo.best_ask, lo.bids.get(lo.best_bid, 0.0), lo.asks.get(lo.best_ask, 0.0)):
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
        md["mark_price"] = 0.5 * (bb + ba) if bb == bb and ba == ba else math.nan
        self.now = max(self.now, ts)
        self.quote_status = self.engine.quote(md, self.inventory, 0.0, 0.0, self.quote)
        if self.quote_status == 0:
            return False
        if self.log_rows:
            self._log_quote()
        full = int(self.quote["type"][0]) == R.QUOTE_SET
        self.n_quotes[0 if full else 1] += 1
        if full:
            self.last_sigma = float(self.quote["sigma"][0])
        return True

    def _log_quote(self):
        """The engine's proposal as a quotes.csv row (and an md.csv row at most every 100 ms)."""
        q = self.quote[0]
        nb, na = int(q["n_bids"]), int(q["n_asks"])
        levels = lambda p, a, n: "|".join(f"{x:g}@{y:g}" for x, y in zip(p[:n], a[:n]))
        f = fmt_num
        row = [str(self.now), "0", str(sum(self.n_quotes) + 1), "set" if int(q["type"]) == R.QUOTE_SET else "pull",
               str(int(q["reason"]))]
        row += [f(float(q[k])) for k in ("mid", "reservation_price", "half_spread", "sigma", "gamma", "intensity_a",
                                         "intensity_k", "inventory")]
        row += [str(nb), str(na), f(float(q["bid_price"][0])) if nb else "", f(float(q["ask_price"][0])) if na else "",
                "", levels(q["bid_price"], q["bid_amount"], nb),     # latency_ns: nothing measured
                levels(q["ask_price"], q["ask_amount"], na)]
        self.text["quotes"].append(",".join(row) + "\n")
        if self.now < self.next_md_ns:
            return
        self.next_md_ns = self.now + MD_ROW_NS
        bb, bq, ba, aq = self.local_best()
        mid = float(q["mid"])
        self.text["md"].append(f"{self.now},0,{f(bb)},{f(bq)},{f(ba)},{f(aq)},{f(mid) if mid != 0 else ''},,,0\n")

    def take_text(self, name):
        if name == "orders":
            return self.take_rows()
        out = "".join(self.text[name]).encode()
        self.text[name] = []
        return out

    # ---- the exchange --------------------------------------------------------------------------
    def _exch_data(self, ev):
        kind, price, qty, ts = int(ev["kind"]), float(ev["price"]), float(ev["qty"]), int(ev["exch_ts"])
        tick, ex, n = to_tick(price, self.tick), self.ex, len(self.orders)
        if kind == BID_DEPTH:
            prev_best = ex.best_bid
            prev = ex.update_bid(tick, qty)
            for o in list(self.orders.values()):
                if o.side == 1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if ex.best_bid > prev_best:                 # our asks up to the new best bid are hit
                every = prev_best == NEG or n < ex.best_bid - prev_best
                for o in list(self.orders.values()):
                    if o.side == -1 and o.tick <= ex.best_bid and (every or o.tick > prev_best):
                        self._fill(o, o.leaves, ts, o.price, True)
        elif kind == ASK_DEPTH:
            prev_best = ex.best_ask
            prev = ex.update_ask(tick, qty)
            for o in list(self.orders.values()):
                if o.side == -1 and o.tick == tick:
                    self._queue_depth(o, prev, qty)
            if ex.best_ask < prev_best:
                every = prev_best == POS or n < prev_best - ex.best_ask
                for o in list(self.orders.values()):
                    if o.side == 1 and o.tick >= ex.best_ask and (every or o.tick < prev_best):
                        self._fill(o, o.leaves, ts, o.price, True)
        elif kind == BUY_TRADE or kind == SELL_TRADE:
            # hftbacktest looks at the ticks between the best and the trade, or at every order
            if kind == BUY_TRADE:
                hit = -1                                # a buyer lifts our asks
                every = ex.best_bid == NEG or n < tick - ex.best_bid
                lo_t, hi_t = (NEG, POS) if every else (ex.best_bid + 1, tick)
            else:
                hit = 1
                every = ex.best_ask == POS or n < ex.best_ask - tick
                lo_t, hi_t = (NEG, POS) if every else (tick, ex.best_ask - 1)
            for o in list(self.orders.values()):
                if o.side != hit or not lo_t <= o.tick <= hi_t:
                    continue
                if (o.tick - tick) * hit > 0:              # the trade went through our price: all of it
                    self._fill(o, o.leaves, ts, o.price, True)
                elif o.tick == tick:
                    self._queue_trade(o, qty)
                    done = self._queue_filled(o)
                    if done > 0:
                        self._fill(o, o.leaves if not self.partial or done >= o.leaves else done, ts, o.price, True)
        else:
            ex.clear(1 if kind == BID_CLEAR else (-1 if kind == ASK_CLEAR else 0), price)

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
            if to_tick(price, self.tick) == o.tick and amount <= o.leaves:   # same price, not larger: keeps its place
                o.leaves = amount
                return self._respond(REPORT_AMENDED, ts, oid, o.side, o.price, amount, amount, 0.0, 0, 0)
            del self.orders[oid]                               # otherwise: a new order at the back
            return self._new(ts, oid, o.side, price, amount, post_only, REPORT_AMENDED)
        if oid in self.orders:
            return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_DUPLICATE_ID)
        return self._new(ts, oid, side, price, amount, post_only, REPORT_ACK)

    def _new(self, ts, oid, side, price, amount, post_only, ack):
        tick = to_tick(price, self.tick)
        crosses = (side == 1 and tick >= self.ex.best_ask) or (side == -1 and tick <= self.ex.best_bid)
        if crosses:
            if post_only:
                return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_POST_ONLY)
            best = (self.ex.best_ask if side == 1 else self.ex.best_bid) * self.tick   # taker: all at the best
            return self._respond(REPORT_FILL, ts, oid, side, best, amount, 0.0,
                                 self.taker_fee * best * amount, 0, 0)
        if len(self.orders) == MAX_ORDERS:
            return self._respond(REPORT_REJECT, ts, oid, side, price, amount, 0.0, 0.0, 0, REJECT_TOO_MANY)
        o = _Order()
        o.oid, o.side, o.tick, o.price, o.leaves, o.cum = oid, side, tick, price, amount, 0.0
        o.front = (self.ex.bids if side == 1 else self.ex.asks).get(tick, 0.0)
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
        ex = _round(-o.front / self.lot)
        if ex > 0:
            o.front = 0.0
            return ex * self.lot
        return 0.0


def _round(x):
    """C's round(): half away from zero (Python's round() goes to even)."""
    if not math.isfinite(x):
        return x
    a = abs(x)
    r = math.floor(a)
    return math.copysign(r + 1.0 if a - r >= 0.5 else r, x)


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
