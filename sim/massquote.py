"""Mass quoting and market-maker protection (THALEX_API.md section 5).

Quotes live per (session, instrument, side) as {price ticks: Order}. A protection group is
(session, product); every contract executed passively on the group's quotes counts against its
``trade_amount``; at zero or below all of the group's quotes are pulled (delete_reason
mm_protection) and further quotes refused until set_mm_protection is sent again.
Per-side failures are reported inside the result (``errors``, each ``{code, message, side,
price}`` as the spec's DoubleSidedQuoteResult: side and price only where they apply), not as an
RPC error; the side strings "bid"/"ask" are our choice (undocumented upstream).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import params as P
from .errors import (ApiError, INVALID_REQUEST, PERSISTENT_SESSION, PROTECTION_NOT_SET,
                     QUOTE_EXCEEDS_PROTECTION, UNKNOWN_INSTRUMENT, UNKNOWN_PRODUCT)
from .instruments import products, round8
from .orders import Order

MAX_ITEMS = 100
MAX_LEVELS = 10
SIDES = (("b", True, "bid"), ("a", False, "ask"))


@dataclass
class ProtectionGroup:
    """Amounts in coins. ``remaining`` may go negative when one aggressor hits several quotes."""

    product: str
    trade_amount: float
    quote_amount: float
    remaining: float

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 1e-12


class MassQuoter:
    def __init__(self, engine):
        self.engine = engine
        self.products = products(engine.instruments)
        engine.passive_fill_hooks.append(self.on_passive_fills)

    # ---------------------------------------------------------------- protection
    def set_mm_protection(self, session, p: dict) -> None:
        product = P.string(p, "product", required=True)
        if product not in self.products:
            raise ApiError(UNKNOWN_PRODUCT, f"product={product!r}: unknown "
                                            f"(expected one of {', '.join(sorted(self.products))})")
        both = P.number(p, "amount", required=False)     # deprecated: overrides the two below
        if both is not None:
            trade = quote = both
        else:
            trade, quote = P.number(p, "trade_amount"), P.number(p, "quote_amount")
        for name, value in (("trade_amount", trade), ("quote_amount", quote)):
            if value <= 0:
                raise ApiError(INVALID_REQUEST, f"{name}={value}: expected a number > 0")
        session.mmp[product] = ProtectionGroup(product, trade, quote, trade)
        self._notify(session, product, trade, "refill")

    def _notify(self, session, product: str, remaining: float, reason: str) -> None:
        self.engine.events.append(("mmp", session, [{"product": product,
                                                      "remaining_amount": round8(remaining),
                                                      "reason": reason}]))

    def on_passive_fills(self, hit) -> None:
        """Count passive executions on mass quotes; pull a group that ran out."""
        touched = {}
        for maker, qty in hit:
            if maker.mass_quote_product is None or maker.session is None:
                continue
            group = maker.session.mmp.get(maker.mass_quote_product)
            if group is None:
                continue
            group.remaining = round8(group.remaining - qty)
            touched[(maker.session.session_id, group.product)] = (maker.session, group)
        for session, group in touched.values():
            if group.exhausted:
                self.pull(session, group.product, "mm_protection")
            self._notify(session, group.product, group.remaining, "executions")

    def pull(self, session, product: str, delete_reason: str) -> int:
        """Delete every live quote of the session in ``product``; returns how many."""
        n = 0
        for (name, _side), levels in session.quotes.items():
            if self.engine.instruments[name].product != product:
                continue
            for order in list(levels.values()):
                if order.active:
                    self.engine.remove(order, delete_reason, "cancel")
                    n += 1
            levels.clear()
        return n

    def reset_session(self, session, reason: str) -> None:
        """cancel_session / disconnect: quotes are gone (non-persistent), groups reset."""
        for levels in session.quotes.values():
            levels.clear()
        for product in list(session.mmp):
            del session.mmp[product]
            if not session.closed:
                self._notify(session, product, 0.0, reason)

    def cancel_mass_quote(self, session, p: dict, all_sessions) -> None:
        """Every mass quote of the account (all its sessions), optionally one product only."""
        product = P.string(p, "product")
        if product is not None and product not in self.products:
            raise ApiError(UNKNOWN_PRODUCT, f"product={product!r}: unknown product")
        for other in all_sessions:
            if other.account is not session.account:
                continue
            for prod in list(self.products if product is None else [product]):
                self.pull(other, prod, "client_cancel")
                if prod in other.mmp:
                    del other.mmp[prod]
                    self._notify(other, prod, 0.0, "client_cancel")

    # ---------------------------------------------------------------- quoting
    def mass_quote(self, session, p: dict) -> dict:
        if session.persistent:
            raise ApiError(PERSISTENT_SESSION, "mass_quote needs a non-persistent session: call "
                                               "private/set_cancel_on_disconnect first")
        quotes = P.require(p, "quotes")
        if not isinstance(quotes, list) or len(quotes) > MAX_ITEMS:
            raise ApiError(INVALID_REQUEST, f"quotes: expected a list of at most {MAX_ITEMS} "
                                            f"items, got {type(quotes).__name__}")
        label = P.label(p)
        post_only = P.boolean(p, "post_only")
        reject_post_only = P.boolean(p, "reject_post_only")
        result = {"n_success": 0, "n_fail": 0, "errors": []}
        for item in quotes:
            self._quote_item(session, item, label, post_only, reject_post_only, result)
        return result

    def _quote_item(self, session, item, label, post_only, reject_post_only, result) -> None:
        present = [s for s in SIDES if isinstance(item, dict) and s[0] in item]
        name = item.get("i") if isinstance(item, dict) else None
        instr = self.engine.instruments.get(name) if isinstance(name, str) else None
        if instr is None:
            code = UNKNOWN_INSTRUMENT if isinstance(name, str) else INVALID_REQUEST
            result["n_fail"] += max(1, len(present))
            result["errors"].append({"code": code, "message": f"quote item i={name!r}: unknown "
                                     "instrument (expected {i: name, b: ..., a: ...})"})
            return
        group = session.mmp.get(instr.product)
        for key, is_buy, side in present:
            try:
                if group is None:
                    raise ApiError(PROTECTION_NOT_SET, f"no mm protection set for {instr.product} "
                                                       "in this session: call set_mm_protection")
                if group.exhausted:
                    raise ApiError(PROTECTION_NOT_SET, f"protection group {instr.product} is "
                                                       "exhausted: refill with set_mm_protection")
                levels = self._levels(item[key], instr, group, side)
            except ApiError as e:
                result["n_fail"] += 1
                error = {"code": e.code, "message": e.message, "side": side}
                if getattr(e, "price", None) is not None:
                    error["price"] = e.price      # the spec's optional price level
                result["errors"].append(error)
                continue
            self._replace(session, instr, is_buy, levels, label, post_only, reject_post_only)
            result["n_success"] += 1

    def _levels(self, raw, instr, group, side) -> dict[int, float]:
        """{ticks: coins} of one side; raises ApiError for the whole side if any level is bad."""
        if isinstance(raw, dict):
            raw = [[raw.get("p"), raw.get("a")]]
        if not isinstance(raw, list) or not all(isinstance(x, list) and len(x) == 2 for x in raw):
            raise ApiError(INVALID_REQUEST, f"{side}={raw!r}: expected {{p, a}} or [[price, amount], ...]")
        out: dict[int, float] = {}
        for price, amount in raw:
            try:
                px = P.price(price, instr)
                amt = P.amount(amount, instr, allow_zero=True)
                if amt > group.quote_amount + 1e-12:
                    raise ApiError(QUOTE_EXCEEDS_PROTECTION, f"{side} amount={amt} at price={px} "
                                   f"exceeds quote_amount={group.quote_amount} of {group.product}")
            except ApiError as e:
                if isinstance(price, (int, float)) and not isinstance(price, bool) and math.isfinite(price):
                    e.price = price           # the level at fault, as a number (the spec's type)
                raise
            out[instr.to_ticks(px)] = amt
        if len(out) > MAX_LEVELS:
            raise ApiError(INVALID_REQUEST, f"{side}: {len(out)} price levels, at most {MAX_LEVELS}")
        return out

    def _replace(self, session, instr, is_buy, levels, label, post_only, reject_post_only) -> None:
        """Atomically swap one side's quotes; identical (price, amount) levels keep priority."""
        engine = self.engine
        current = session.quotes.setdefault((instr.instrument_name, is_buy), {})
        for ticks, order in list(current.items()):
            keep = order.active and levels.get(ticks) == order.amount
            if keep:
                levels.pop(ticks)
                continue
            del current[ticks]
            if order.active:
                engine.remove(order, "replaced" if ticks in levels else "client_cancel", "cancel")
        for ticks, amount in levels.items():
            if amount == 0:
                continue
            order = Order(engine.ids.order_id(), instr, "buy" if is_buy else "sell",
                          instr.from_ticks(ticks), amount, label=label, account=session.account,
                          session=session, persistent=False, post_only=post_only,
                          mass_quote_product=instr.product, create_time=engine.clock())
            engine.submit(order, ticks, reject_post_only, "insert")
            if order.active:
                current[order.ticks] = order
