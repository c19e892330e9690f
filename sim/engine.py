"""The matching engine: order entry (insert, amend, cancel, bulk cancels) and price-time matching.

Everything runs on the asyncio loop's thread, one request at a time, so no locking. Each change
that subscribers should hear about is appended to ``events`` and routed by sim/server.py after the
request (or market step) that caused it:
    ("order", session, account, OrderStatus)      -> session.orders / account.orders
    ("trade", account, Trade)                      -> account.trade_history
    ("portfolio", account, instrument_name)        -> account.portfolio
    ("public_trade", instrument_name, trade_row)   -> recent_trades / book trades
    ("mmp", session, [{product, remaining_amount, reason}]) -> session.mm_protection
    ("conditional", account)                       -> account.conditional_orders (sim/conditional.py)
"""
from __future__ import annotations

import itertools
import time
from collections import deque

from . import params as P
from .accounts import Account
from .book import Book
from .ids import IdMaker
from .errors import (ApiError, COLLAR_BREACH, DUPLICATE_ORDER_ID, INVALID_REQUEST,
                     INVALID_TIME_IN_FORCE, ORDER_NOT_FOUND, REDUCE_ONLY)
from .instruments import Instrument, round8
from .orders import Order

GTC, IOC = "good_till_cancelled", "immediate_or_cancel"
COLLAR_FRACTION = 0.05   # collar_low/high = mark -/+ 5 %; Thalex's real width is not published


class StaticPrices:
    """Price source before a market model is attached: every instrument at its start price."""

    def __init__(self, instruments):
        self.instruments = instruments

    def mark(self, name):
        return self.instruments[name].start_price

    def index(self, underlying):
        return next(i.start_price for i in self.instruments.values() if i.underlying == underlying)

    def funding_mark(self, name):
        return 0.0


class Engine:
    """Books, accounts and live orders of the whole exchange."""

    def __init__(self, instruments: dict[str, Instrument], maker_fee: float = 0.0001,
                 taker_fee: float = 0.0005, clock=time.time, recent_trades_kept: int = 100):
        self.instruments = instruments
        self.books = {name: Book(instr) for name, instr in instruments.items()}
        self.accounts: dict[str, Account] = {}
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.clock = clock
        self.prices = StaticPrices(instruments)
        self.events: list[tuple] = []
        self.recent_trades_kept = recent_trades_kept   # what a recent_trades snapshot holds at most
        self.recent_trades = {name: deque(maxlen=recent_trades_kept) for name in instruments}
        self.last_price: dict[str, float | None] = {name: None for name in instruments}
        self.volume: dict[str, float] = {name: 0.0 for name in instruments}
        self.value: dict[str, float] = {name: 0.0 for name in instruments}
        self.high: dict[str, float | None] = {name: None for name in instruments}
        self.low: dict[str, float | None] = {name: None for name in instruments}
        self.first_price: dict[str, float | None] = {name: None for name in instruments}
        self.passive_fill_hooks = []    # callables(list[(maker Order, coins)]) after each match
        self.ids = IdMaker()            # Thalex-shaped hex order and trade ids
        self._seq = itertools.count(1)

    # ---------------------------------------------------------------- accounts and lookup
    def account(self, number: str) -> Account:
        acct = self.accounts.get(number)
        if acct is None:
            acct = self.accounts[number] = Account(number)
        return acct

    def find_live(self, session, p: dict) -> Order:
        """The live order named by ``client_order_id`` (this session) XOR ``order_id`` (account)."""
        cid, oid = p.get("client_order_id"), p.get("order_id")
        if (cid is None) == (oid is None):
            raise ApiError(INVALID_REQUEST, "give exactly one of client_order_id and order_id "
                                            f"(got client_order_id={cid!r}, order_id={oid!r})")
        if cid is not None:
            P.integer(p, "client_order_id", 0, P.CLIENT_ORDER_ID_MAX)
            order = session.by_cid.get(cid)
            if order is None:
                raise ApiError(ORDER_NOT_FOUND, f"client_order_id={cid}: no open order with this "
                                                "id in this session")
            return order
        order = session.account.orders.get(str(oid))
        if order is None:
            raise ApiError(ORDER_NOT_FOUND, f"order_id={oid!r}: no open order with this id")
        return order

    # ---------------------------------------------------------------- order entry
    def insert(self, session, p: dict, direction: str | None = None) -> dict:
        """private/insert, buy, sell -> OrderStatus (already matched; IOC remainder cancelled)."""
        if direction is None:
            direction = P.string(p, "direction", choices=("buy", "sell"), required=True)
        instr = P.instrument(p, self.instruments)
        order_type = P.string(p, "order_type", "limit", choices=("limit", "market"))
        tif = P.string(p, "time_in_force", GTC if order_type == "limit" else IOC,
                       choices=(GTC, IOC))
        post_only = P.boolean(p, "post_only")
        reject_post_only = P.boolean(p, "reject_post_only")
        reduce_only = P.boolean(p, "reduce_only")
        collar = P.string(p, "collar", "clamp" if order_type == "market" else "reject",
                          choices=("ignore", "reject", "clamp"))
        amount = P.amount(P.require(p, "amount"), instr)
        price = None
        if order_type == "limit" or p.get("price") is not None:
            price = P.price(P.require(p, "price"), instr)
        if order_type == "market" and tif == GTC:
            raise ApiError(INVALID_TIME_IN_FORCE, "time_in_force='good_till_cancelled' is not "
                                                  "allowed for a market order: use immediate_or_cancel")
        if post_only and (tif == IOC or order_type == "market"):
            raise ApiError(INVALID_TIME_IN_FORCE, "post_only needs a good_till_cancelled limit order")
        if reject_post_only and not post_only:
            raise ApiError(INVALID_REQUEST, "reject_post_only=true needs post_only=true")
        if order_type == "market" and collar == "ignore":
            raise ApiError(INVALID_REQUEST, "collar='ignore' is not allowed for a market order")
        cid = P.integer(p, "client_order_id", 0, P.CLIENT_ORDER_ID_MAX)
        if cid is not None and cid in session.by_cid:
            raise ApiError(DUPLICATE_ORDER_ID, f"client_order_id={cid}: already used by an open "
                                               "order of this session")
        if reduce_only:
            amount = self._reduce_only_amount(session.account, instr, direction, amount)
        order = Order(self.ids.order_id(), instr, direction, price, amount, order_type, tif,
                      P.label(p), cid, session.account, session, session.persistent, post_only,
                      reduce_only, create_time=self.clock())
        limit = self._collar_limit(order, collar)
        return self.submit(order, limit, reject_post_only, "insert")

    def _reduce_only_amount(self, account, instr, direction, amount) -> float:
        pos = account.positions.get(instr.instrument_name)
        held = pos.position if pos else 0.0
        if held == 0 or (held > 0) == (direction == "buy"):
            raise ApiError(REDUCE_ONLY, f"reduce_only {direction} of {instr.instrument_name} with "
                                        f"position {held}: it would not reduce the position")
        return min(amount, abs(held))

    def _collar_limit(self, order: Order, collar: str) -> int | None:
        """The order's limit in ticks after the price collar (market orders: the collar)."""
        instr = order.instrument
        mark = self.prices.mark(instr.instrument_name)
        high = instr.to_ticks(mark * (1 + COLLAR_FRACTION))
        low = max(1, instr.to_ticks(mark * (1 - COLLAR_FRACTION)))
        if order.price is None:
            return high if order.is_buy else low
        ticks = instr.to_ticks(order.price)
        beyond = ticks > high if order.is_buy else ticks < low
        if not beyond or collar == "ignore":
            return ticks
        if collar == "reject":
            side = "collar_high" if order.is_buy else "collar_low"
            bound = instr.from_ticks(high if order.is_buy else low)
            raise ApiError(COLLAR_BREACH, f"price={order.price} of this {order.direction} is beyond "
                                          f"{side}={bound} of {instr.instrument_name}")
        return high if order.is_buy else low

    def submit(self, order: Order, limit: int | None, reject_post_only: bool, reason: str) -> dict:
        """Match a new (or re-priced) order, rest or cancel what is left, emit its status."""
        book = self.books[order.instrument.instrument_name]
        now = self.clock()
        if order.post_only and limit is not None:
            opposite = book.best(not order.is_buy)
            crosses = opposite is not None and (limit >= opposite if order.is_buy else limit <= opposite)
            if crosses and reject_post_only:
                limit = None
                order.close("cancelled", "immediate_cancel", now)
            elif crosses:
                limit = opposite - 1 if order.is_buy else opposite + 1
                if limit <= 0:
                    limit = None
                    order.close("cancelled", "immediate_cancel", now)
                else:
                    order.price = order.instrument.from_ticks(limit)
        if order.active:
            self.match(order, limit)
        if order.active:
            if order.time_in_force == IOC or limit is None:
                order.close("cancelled", "immediate_cancel", now)
            else:
                order.ticks = limit
                order.seq = next(self._seq)
                book.add(order)
                if order.account is not None:
                    order.account.orders[order.order_id] = order
                if order.session is not None:
                    order.session.orders[order.order_id] = order
                    if order.client_order_id is not None:
                        order.session.by_cid[order.client_order_id] = order
        if not order.active and order.session is not None:
            order.session.forget(order)
            if order.account is not None:
                order.account.orders.pop(order.order_id, None)
        return self.emit(order, reason)

    def emit(self, order: Order, change_reason: str) -> dict:
        """Queue the order's status for its subscribers and return it (new fills cleared)."""
        status = order.status_dict(change_reason)
        order.new_fills = []
        if order.account is not None:
            self.events.append(("order", order.session, order.account, status))
        return status

    # ---------------------------------------------------------------- matching
    def match(self, taker: Order, limit: int | None) -> None:
        """Trade ``taker`` against the book up to ``limit`` ticks (None = no limit)."""
        instr = taker.instrument
        book = self.books[instr.instrument_name]
        now = self.clock()
        hit: list[tuple[Order, float]] = []
        while taker.active:
            maker = book.best_maker(taker.is_buy, limit)
            if maker is None:
                break
            qty = round8(min(taker.remaining, maker.remaining))
            price = instr.from_ticks(maker.ticks)
            trade_id = self.ids.trade_id(now)
            self._fill(maker, price, qty, "maker", trade_id, now)
            self._fill(taker, price, qty, "taker", trade_id, now)
            hit.append((maker, qty))
            if not maker.active:
                book.remove(maker)
                if maker.account is not None:
                    maker.account.orders.pop(maker.order_id, None)
                if maker.session is not None:
                    maker.session.forget(maker)
            row = [price, qty, taker.direction, now, instr.instrument_name, False]
            self.recent_trades[instr.instrument_name].append(row)
            self._trade_stats(instr.instrument_name, price)
            self.volume[instr.instrument_name] += qty
            self.value[instr.instrument_name] += qty * price
            self.events.append(("public_trade", instr.instrument_name, row))
        for maker in dict.fromkeys(m for m, _ in hit):
            if maker.account is not None:
                self.emit(maker, "fill")
            else:
                maker.new_fills = []
        if hit:
            for hook in self.passive_fill_hooks:
                hook(hit)

    def _trade_stats(self, name: str, price: float) -> None:
        self.last_price[name] = price
        if self.first_price[name] is None:
            self.first_price[name] = price
        self.high[name] = price if self.high[name] is None else max(self.high[name], price)
        self.low[name] = price if self.low[name] is None else min(self.low[name], price)

    def _fill(self, order: Order, price: float, qty: float, maker_taker: str, trade_id: str,
              now: float) -> None:
        order.fill(price, qty, trade_id, maker_taker, now)
        if order.account is None:
            return
        name = order.instrument.instrument_name
        fee_rate = self.maker_fee if maker_taker == "maker" else self.taker_fee
        trade = order.account.record_fill(order, price, qty, maker_taker, fee_rate, trade_id, now,
                                          self.prices.index(order.instrument.underlying),
                                          self.prices.funding_mark(name))
        self.events.append(("trade", order.account, trade))
        self.events.append(("portfolio", order.account, name))

    # ---------------------------------------------------------------- amend and cancel
    def amend(self, session, p: dict) -> dict:
        """private/amend: new price and new *total* amount (the spec's "original" amount, so the
        amend is volume-safe: remaining = amount - filled); at or below the filled amount the
        order is cancelled; same price + smaller keeps priority. A refused amend (collar) leaves
        the order as it was."""
        order = self.find_live(session, p)
        instr = order.instrument
        price = P.price(P.require(p, "price"), instr)
        amount = P.amount(P.require(p, "amount"), instr)
        collar = P.string(p, "collar", "reject", choices=("ignore", "reject", "clamp"))
        book = self.books[instr.instrument_name]
        now = self.clock()
        if amount <= order.filled_amount + 1e-12:
            return self.remove(order, "client_cancel", "amend", now)
        ticks = instr.to_ticks(price)
        if ticks == order.ticks and amount <= order.amount:
            order.amount = amount           # same price, not larger: keeps its queue place
            return self.emit(order, "amend")
        old_price, old_amount = order.price, order.amount
        order.price, order.amount = price, amount
        try:
            limit = self._collar_limit(order, collar)
        except ApiError:
            order.price, order.amount = old_price, old_amount
            raise
        book.remove(order)
        return self.submit(order, limit, False, "amend")

    def remove(self, order: Order, delete_reason: str, change_reason: str, now=None) -> dict:
        """Take a live order out of the book as cancelled; returns its status."""
        self.books[order.instrument.instrument_name].remove(order)
        order.close("cancelled", delete_reason, now or self.clock())
        if order.account is not None:
            order.account.orders.pop(order.order_id, None)
        if order.session is not None:
            order.session.forget(order)
        return self.emit(order, change_reason)

    def cancel(self, session, p: dict) -> dict:
        return self.remove(self.find_live(session, p), "client_cancel", "cancel")

    def cancel_all(self, account: Account) -> int:
        """Every open order of the account (all sessions); returns how many were deleted."""
        orders = list(account.orders.values())
        for order in orders:
            self.remove(order, "client_bulk_cancel", "cancel")
        return len(orders)

    def cancel_session_orders(self, session, delete_reason: str = "session_end") -> int:
        """Delete the session's non-persistent orders (disconnect, cancel_session)."""
        orders = [o for o in session.orders.values() if not o.persistent]
        for order in orders:
            self.remove(order, delete_reason, "cancel")
        return len(orders)

    def drain_events(self) -> list[tuple]:
        events, self.events = self.events, []
        return events
