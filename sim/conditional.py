"""Conditional (stop) orders held by the exchange (spec v2.55, rpc_conditional / subs_conditional).

The spec allows four kinds, told apart by which optional price is set:
    stop            stop_price only                       -> market order on activation
    stop limit      stop_price + limit_price              -> good-till-cancelled limit order
    bracket         stop_price + bracket_price            -> market order
    trailing stop   stop_price + trailing_stop_callback_rate -> market order
A buy activates when the target price is at or above its stop price (or at or below its bracket
price); a sell when at or below its stop price (or at or above its bracket price). A trailing stop
follows the price: a sell's stop rises to ``price * (1 - rate)``, a buy's falls to
``price * (1 + rate)``.

Targets: ``mark`` and ``index`` are the market model's values, checked after every market step
(Thalex marks once a second; the local exchange every ``--tick-interval``); ``last`` is every trade
price since the previous check, in order. The default target is ``last`` (the spec names none).

On activation the order becomes a new order of the account on the book (persistent, no session,
insert_reason ``conditional_order``, ``conditional_order_id`` set), reduce-only if asked. If the
engine refuses it (a reduce-only order with no position left to reduce, a limit beyond the collar)
the conditional order ends ``rejected`` with the refusal as ``reject_reason``.

Conditional orders belong to the account: they outlive the session that created them and
cancel-on-disconnect (that is what they are for), and ``private/cancel_all`` leaves them alone.
Every change is an ``("conditional", account)`` engine event: account.conditional_orders carries
the account's full list (active ones and the last ``FINISHED_KEPT`` finished ones) each time.
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from . import params as P
from .errors import ApiError, INVALID_REQUEST, ORDER_NOT_FOUND
from .instruments import Instrument
from .orders import Order

TARGETS = ("last", "mark", "index")
DEFAULT_TARGET = "last"
FINISHED_KEPT = 1000       # finished conditional orders remembered per account (history)
MAX_ACTIVE = 500           # active conditional orders per account
ID_PREFIX = 0x0000C0D0 << 32   # ids: 16 hex digits like Thalex's, apart from order ids


@dataclass(eq=False)
class Conditional:
    """One conditional order. Prices in USD, amount in contracts, times Unix seconds."""

    order_id: str
    account: object
    instrument: Instrument
    direction: str
    amount: float
    target: str
    stop_price: float
    limit_price: float | None = None
    bracket_price: float | None = None
    callback_rate: float | None = None
    label: str | None = None
    reduce_only: bool = False
    status: str = "active"
    create_time: float = 0.0
    update_time: float = 0.0
    convert_time: float | None = None
    converted_order_id: str | None = None
    reject_reason: str | None = None

    @property
    def is_buy(self) -> bool:
        return self.direction == "buy"

    def triggered_by(self, price: float) -> bool:
        if self.is_buy:
            return price >= self.stop_price or (self.bracket_price is not None and price <= self.bracket_price)
        return price <= self.stop_price or (self.bracket_price is not None and price >= self.bracket_price)

    def trail(self, price: float) -> bool:
        """Move a trailing stop after ``price``; True if the stop price changed."""
        if self.callback_rate is None:
            return False
        tick = self.instrument.tick_size
        if self.is_buy:
            new = self.instrument.from_ticks(-int(-price * (1 + self.callback_rate) // tick))
            moved = new < self.stop_price
        else:
            new = self.instrument.from_ticks(int(price * (1 - self.callback_rate) // tick))
            moved = new > self.stop_price
        if moved:
            self.stop_price = new
        return moved

    def to_dict(self) -> dict:
        """The ConditionalOrder object (optional fields only when set)."""
        d = {"order_id": self.order_id, "instrument_name": self.instrument.instrument_name,
             "direction": self.direction, "amount": self.amount, "target": self.target,
             "stop_price": self.stop_price, "status": self.status,
             "create_time": self.create_time, "update_time": self.update_time,
             "reduce_only": self.reduce_only}
        for key, value in (("limit_price", self.limit_price), ("bracket_price", self.bracket_price),
                           ("trailing_stop_callback_rate", self.callback_rate), ("label", self.label),
                           ("convert_time", self.convert_time),
                           ("converted_order_id", self.converted_order_id),
                           ("reject_reason", self.reject_reason)):
            if value is not None:
                d[key] = value
        return d


@dataclass
class _Book:
    """One account's conditional orders."""

    active: dict = field(default_factory=dict)                               # id -> Conditional
    finished: deque = field(default_factory=lambda: deque(maxlen=FINISHED_KEPT))


class ConditionalOrders:
    """Every account's conditional orders; ``check()`` activates the triggered ones."""

    def __init__(self, engine):
        self.engine = engine
        self.books: dict[str, _Book] = {}
        self.trade_prices: dict[str, list[float]] = {}   # instrument -> trade prices since check
        self._ids = itertools.count(1)
        engine.passive_fill_hooks.append(self.on_fills)

    def _book(self, account) -> _Book:
        book = self.books.get(account.account_number)
        if book is None:
            book = self.books[account.account_number] = _Book()
        return book

    def _changed(self, account) -> None:
        self.engine.events.append(("conditional", account))

    # ---------------------------------------------------------------- requests
    def create(self, account, p: dict) -> dict:
        """private/create_conditional_order -> the ConditionalOrder (status ``created``)."""
        direction = P.string(p, "direction", choices=("buy", "sell"), required=True)
        instr = P.instrument(p, self.engine.instruments)
        amount = P.amount(P.require(p, "amount"), instr)
        stop = P.price(P.require(p, "stop_price"), instr, "stop_price")
        limit = p.get("limit_price")
        limit = None if limit is None else P.price(limit, instr, "limit_price")
        bracket = p.get("bracket_price")
        bracket = None if bracket is None else P.price(bracket, instr, "bracket_price")
        rate = P.number(p, "trailing_stop_callback_rate", required=False)
        target = P.string(p, "target", DEFAULT_TARGET, choices=TARGETS)
        P.string(p, "stp_level", choices=("customer", "account", "disabled"))
        P.string(p, "stp_action", choices=("cancel_aggressive_partial_fill", "cancel_aggressive_no_fill"))
        extras = [name for name, value in (("limit_price", limit), ("bracket_price", bracket),
                                           ("trailing_stop_callback_rate", rate)) if value is not None]
        if len(extras) > 1:
            raise ApiError(INVALID_REQUEST, f"{' and '.join(extras)} together: a conditional order "
                           "is a stop (stop_price only), stop limit (+limit_price), bracket "
                           "(+bracket_price) or trailing stop (+trailing_stop_callback_rate)")
        if bracket is not None and (bracket >= stop if direction == "buy" else bracket <= stop):
            raise ApiError(INVALID_REQUEST, f"bracket_price={bracket} with stop_price={stop}: a "
                           f"{direction} bracket must be {'below' if direction == 'buy' else 'above'} "
                           "its stop price")
        if rate is not None and not 0 < rate < 1:
            raise ApiError(INVALID_REQUEST, f"trailing_stop_callback_rate={rate}: expected a ratio "
                                            "in (0, 1), e.g. 0.05 for 5 %")
        book = self._book(account)
        if len(book.active) >= MAX_ACTIVE:
            raise ApiError(INVALID_REQUEST, f"{len(book.active)} active conditional orders: at most "
                                            f"{MAX_ACTIVE} per account")
        now = self.engine.clock()
        order = Conditional(f"{ID_PREFIX + next(self._ids):016X}", account, instr, direction, amount,
                            target, stop, limit, bracket, rate, P.label(p),
                            P.boolean(p, "reduce_only"), "created", now, now)
        reply = order.to_dict()
        order.status = "active"
        book.active[order.order_id] = order
        self._changed(account)
        return reply

    def cancel(self, account, p: dict) -> None:
        """private/cancel_conditional_order {order_id}: error 1 unless it is still active."""
        oid = P.string(p, "order_id", required=True)
        order = self._book(account).active.get(oid)
        if order is None:
            raise ApiError(ORDER_NOT_FOUND, f"order_id={oid!r}: no active conditional order with "
                                            "this id in this account")
        self._finish(order, "cancelled", self.engine.clock())

    def cancel_all(self, account) -> None:
        now = self.engine.clock()
        for order in list(self._book(account).active.values()):
            self._finish(order, "cancelled", now)

    def open_orders(self, account) -> list[dict]:
        """private/open_conditional_orders: the active ones, oldest first."""
        return [o.to_dict() for o in self._book(account).active.values()]

    def listed(self, account) -> list[dict]:
        """Active and formerly active (private/conditional_orders and the channel)."""
        book = self._book(account)
        return [o.to_dict() for o in book.finished] + [o.to_dict() for o in book.active.values()]

    def history(self, account, p: dict) -> dict:
        """private/conditional_order_history: finished orders, filtered and paged by bookmark."""
        limit = P.integer(p, "limit", 1, 1000) or 1000
        low, high = P.number(p, "time_low", required=False), P.number(p, "time_high", required=False)
        sort = P.string(p, "sort", "descending", choices=("ascending", "descending"))
        names = P.string(p, "instrument_names")
        direction = P.string(p, "direction", choices=("buy", "sell"))
        label = P.string(p, "label")
        bookmark = p.get("bookmark")
        if bookmark is not None and not (isinstance(bookmark, str) and bookmark.isdigit()):
            raise ApiError(INVALID_REQUEST, f"bookmark={bookmark!r}: expected a bookmark string "
                                            "returned by an earlier call")
        wanted = set(names.split(",")) if names else None
        rows = [o for o in self._book(account).finished
                if (low is None or o.create_time >= low) and (high is None or o.create_time <= high)
                and (wanted is None or o.instrument.instrument_name in wanted)
                and (direction is None or o.direction == direction)
                and (label is None or o.label == label)]
        rows.sort(key=lambda o: o.create_time, reverse=sort == "descending")
        skip = int(bookmark or 0)
        page = rows[skip:skip + limit]
        more = skip + limit < len(rows)
        return {"orders": [o.to_dict() for o in page], "bookmark": str(skip + limit) if more else None}

    # ---------------------------------------------------------------- triggering
    def on_fills(self, hit) -> None:
        """Engine hook after each match: remember the trade prices (the ``last`` target)."""
        for maker, _qty in hit:
            instr = maker.instrument
            self.trade_prices.setdefault(instr.instrument_name, []).append(instr.from_ticks(maker.ticks))

    def check(self) -> int:
        """Trail, and activate every conditional order whose trigger was reached; returns how many
        were activated. Called after every market step and every request."""
        trades, self.trade_prices = self.trade_prices, {}
        prices = self.engine.prices
        fired = 0
        for book in list(self.books.values()):
            for order in list(book.active.values()):
                name = order.instrument.instrument_name
                if order.target == "last":
                    seen = trades.get(name, ())
                elif order.target == "mark":
                    seen = (prices.mark(name),)
                else:
                    seen = (prices.index(order.instrument.underlying),)
                moved = False
                for price in seen:
                    moved |= order.trail(price)
                    if order.triggered_by(price):
                        self._activate(order)
                        fired += 1
                        break
                else:
                    if moved:
                        order.update_time = self.engine.clock()
                        self._changed(order.account)
        return fired

    def _activate(self, c: Conditional) -> None:
        engine = self.engine
        now = engine.clock()
        market = c.limit_price is None
        try:
            amount = c.amount
            if c.reduce_only:
                amount = engine._reduce_only_amount(c.account, c.instrument, c.direction, amount)
            order = Order(engine.ids.order_id(), c.instrument, c.direction, c.limit_price,
                          amount, "market" if market else "limit",
                          "immediate_or_cancel" if market else "good_till_cancelled", c.label,
                          account=c.account, persistent=True, reduce_only=c.reduce_only,
                          create_time=now, insert_reason="conditional_order",
                          conditional_order_id=c.order_id)
            limit = engine._collar_limit(order, "clamp" if market else "reject")
        except ApiError as e:
            c.reject_reason = f"code {e.code}: {e.message}"
            self._finish(c, "rejected", now, convert_time=now)
            return
        engine.submit(order, limit, False, "insert")
        c.converted_order_id = order.order_id
        self._finish(c, "converted", now, convert_time=now)

    def _finish(self, c: Conditional, status: str, now: float, convert_time: float | None = None) -> None:
        book = self._book(c.account)
        book.active.pop(c.order_id, None)
        c.status, c.update_time = status, now
        if convert_time is not None:
            c.convert_time = convert_time
        book.finished.append(c)
        self._changed(c.account)
