"""The Thalex methods we use, as thin wrappers over ``call`` / ``send`` (see client.py).

Every wrapper drops parameters whose value is None (the official client does the same, so
optional parameters are simply absent). By default a wrapper waits for the reply and returns its
``result``; with ``wait=False`` or a ``callback`` it returns the request id at once, which is how
the gateway pipelines order traffic. Names and parameters follow the spec (thalex-openapi.json
v2.55; THALEX_API.md section 3 summarises it). Subscribe calls return the channels actually
subscribed, even when that is fewer than asked: see venue/subscriptions.py.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from venue.decode.history import RESOLUTIONS as MARK_RESOLUTIONS
from venue.token import make_token


def _params(**kwargs) -> dict:
    return {k: v for k, v in kwargs.items() if v is not None}


def _one_order_ref(client_order_id: int | None, order_id: str | None, method: str) -> None:
    if (client_order_id is None) == (order_id is None):
        raise ValueError(f"{method}: give exactly one of client_order_id={client_order_id!r} "
                         f"and order_id={order_id!r}")


class ThalexApi:
    """Mixin: needs ``call(method, params, timeout_s)`` and ``send(method, params, callback)``."""

    account_number: str | None = None

    def _request(self, method: str, params: dict, wait: bool = True,
                 callback: Callable | None = None, timeout_s: float | None = None) -> Any:
        if wait and callback is None:
            return self.call(method, params, timeout_s)
        return self.send(method, params, callback)

    # ---- session ------------------------------------------------------------------------------
    def login(self, key_id: str, private_key_pem: str | bytes, account: str | None = None,
              timeout_s: float | None = None) -> dict:
        """``public/login`` with a fresh RS512 token; returns ``{"account_number": ...}``."""
        result = self.call("public/login", _params(token=make_token(key_id, private_key_pem),
                                                   account=account), timeout_s)
        if isinstance(result, dict):
            self.account_number = result.get("account_number")
        return result

    def set_cancel_on_disconnect(self, timeout_secs: int, **kw) -> Any:
        """Make the session non-persistent; result ``{"message_rate": n}`` (orders/s now allowed)."""
        return self._request("private/set_cancel_on_disconnect", {"timeout_secs": int(timeout_secs)}, **kw)

    def public_subscribe(self, channels: Iterable[str], **kw) -> Any:
        return self._request("public/subscribe", {"channels": list(channels)}, **kw)

    def private_subscribe(self, channels: Iterable[str], **kw) -> Any:
        return self._request("private/subscribe", {"channels": list(channels)}, **kw)

    def unsubscribe(self, channels: Iterable[str], **kw) -> Any:
        return self._request("unsubscribe", {"channels": list(channels)}, **kw)

    # ---- market data --------------------------------------------------------------------------
    def instruments(self, *, underlying: str | None = None, instrument_type: str | None = None,
                    expiry_date: str | None = None, **kw) -> Any:
        return self._request("public/instruments", _params(
            underlying=underlying, instrument_type=instrument_type, expiry_date=expiry_date), **kw)

    def instrument(self, instrument_name: str, **kw) -> Any:
        return self._request("public/instrument", {"instrument_name": instrument_name}, **kw)

    def ticker(self, instrument_name: str, **kw) -> Any:
        return self._request("public/ticker", {"instrument_name": instrument_name}, **kw)

    def book(self, instrument_name: str, **kw) -> Any:
        return self._request("public/book", {"instrument_name": instrument_name}, **kw)

    def index(self, underlying: str, **kw) -> Any:
        return self._request("public/index", {"underlying": underlying}, **kw)

    def mark_price_historical_data(self, instrument_name: str, from_s: float, to_s: float,
                                   resolution: str = "1m", **kw) -> Any:
        """``public/mark_price_historical_data``: the mark's OHLC bars of [from_s, to_s) (Unix s,
        ``to`` exclusive) at ``resolution`` (1m, 5m, 15m, 30m, 1h, 1d, 1w) ->
        ``{"instrument_type", "mark": [[start, open, high, low, close, ...], ...], "no_data"?}``;
        venue/decode/history.py validates the rows."""
        if resolution not in MARK_RESOLUTIONS:
            raise ValueError(f"mark_price_historical_data: resolution={resolution!r}: expected one of "
                             f"{', '.join(MARK_RESOLUTIONS)}")
        if not from_s < to_s:
            raise ValueError(f"mark_price_historical_data: from_s={from_s}, to_s={to_s}: expected from_s < to_s")
        return self._request("public/mark_price_historical_data", {
            "instrument_name": instrument_name, "from": from_s, "to": to_s, "resolution": resolution}, **kw)

    # ---- orders -------------------------------------------------------------------------------
    def insert(self, direction: str, instrument_name: str, amount: float, price: float | None = None, *,
               client_order_id: int | None = None, label: str | None = None,
               order_type: str | None = None, time_in_force: str | None = None,
               post_only: bool | None = None, reject_post_only: bool | None = None,
               reduce_only: bool | None = None, collar: str | None = None, **kw) -> Any:
        """``private/insert``; direction "buy" | "sell", amount in contracts, price in USD."""
        if direction not in ("buy", "sell"):
            raise ValueError(f"insert: direction={direction!r}: expected 'buy' or 'sell'")
        return self._request("private/insert", _params(
            direction=direction, instrument_name=instrument_name, amount=amount, price=price,
            client_order_id=client_order_id, label=label, order_type=order_type,
            time_in_force=time_in_force, post_only=post_only, reject_post_only=reject_post_only,
            reduce_only=reduce_only, collar=collar), **kw)

    def amend(self, price: float, amount: float, *, client_order_id: int | None = None,
              order_id: str | None = None, collar: str | None = None, **kw) -> Any:
        """``private/amend``: ``amount`` is the new total size (volume-safe)."""
        _one_order_ref(client_order_id, order_id, "amend")
        return self._request("private/amend", _params(
            client_order_id=client_order_id, order_id=order_id, price=price, amount=amount,
            collar=collar), **kw)

    def cancel(self, *, client_order_id: int | None = None, order_id: str | None = None, **kw) -> Any:
        _one_order_ref(client_order_id, order_id, "cancel")
        return self._request("private/cancel", _params(client_order_id=client_order_id,
                                                       order_id=order_id), **kw)

    def cancel_all(self, **kw) -> Any:
        """``private/cancel_all``: result is the number of orders deleted."""
        return self._request("private/cancel_all", {}, **kw)

    def cancel_session(self, **kw) -> Any:
        return self._request("private/cancel_session", {}, **kw)

    # ---- market making ------------------------------------------------------------------------
    def mass_quote(self, quotes: list[dict], *, label: str | None = None, post_only: bool | None = None,
                   reject_post_only: bool | None = None, **kw) -> Any:
        """``private/mass_quote``; items ``{"i": name, "b": [[px, amt], ...], "a": [...]}``."""
        return self._request("private/mass_quote", _params(
            quotes=quotes, label=label, post_only=post_only, reject_post_only=reject_post_only), **kw)

    def set_mm_protection(self, product: str, trade_amount: float, quote_amount: float, **kw) -> Any:
        return self._request("private/set_mm_protection", {
            "product": product, "trade_amount": trade_amount, "quote_amount": quote_amount}, **kw)

    def cancel_mass_quote(self, product: str | None = None, **kw) -> Any:
        return self._request("private/cancel_mass_quote", _params(product=product), **kw)

    # ---- account ------------------------------------------------------------------------------
    def portfolio(self, **kw) -> Any:
        return self._request("private/portfolio", {}, **kw)

    def open_orders(self, **kw) -> Any:
        return self._request("private/open_orders", {}, **kw)

    def trade_history(self, *, limit: int | None = None, time_low: float | None = None,
                      time_high: float | None = None, bookmark: str | None = None,
                      sort: str | None = None, instrument_names: str | None = None, **kw) -> Any:
        return self._request("private/trade_history", _params(
            limit=limit, time_low=time_low, time_high=time_high, bookmark=bookmark, sort=sort,
            instrument_names=instrument_names), **kw)

    def account_summary(self, **kw) -> Any:
        return self._request("private/account_summary", {}, **kw)

    # ---- conditional orders (held by the exchange) ----------------------------------------------
    def create_conditional_order(self, direction: str, instrument_name: str, amount: float,
                                 stop_price: float, *, limit_price: float | None = None,
                                 bracket_price: float | None = None,
                                 trailing_stop_callback_rate: float | None = None,
                                 target: str | None = None, label: str | None = None,
                                 reduce_only: bool | None = None, **kw) -> Any:
        """``private/create_conditional_order`` -> ConditionalOrder. A stop (stop_price only)
        activates to a market order, a stop limit (+ limit_price) to a GTC limit order; bracket
        and trailing stop are the other two kinds (set one of the three, or none). ``target``
        "last" | "mark" | "index" is the price the trigger watches; prices USD, amount contracts."""
        if direction not in ("buy", "sell"):
            raise ValueError(f"create_conditional_order: direction={direction!r}: expected 'buy' or 'sell'")
        if target is not None and target not in ("last", "mark", "index"):
            raise ValueError(f"create_conditional_order: target={target!r}: expected 'last', "
                             "'mark' or 'index'")
        kinds = [k for k, v in (("limit_price", limit_price), ("bracket_price", bracket_price),
                                ("trailing_stop_callback_rate", trailing_stop_callback_rate)) if v is not None]
        if len(kinds) > 1:
            raise ValueError(f"create_conditional_order: {' and '.join(kinds)}: set at most one "
                             "(stop limit, bracket or trailing stop)")
        return self._request("private/create_conditional_order", _params(
            direction=direction, instrument_name=instrument_name, amount=amount,
            stop_price=stop_price, limit_price=limit_price, bracket_price=bracket_price,
            trailing_stop_callback_rate=trailing_stop_callback_rate, target=target, label=label,
            reduce_only=reduce_only), **kw)

    def cancel_conditional_order(self, order_id: str, **kw) -> Any:
        """``private/cancel_conditional_order``; result null; error 1 when it is not active."""
        return self._request("private/cancel_conditional_order", {"order_id": order_id}, **kw)

    def cancel_all_conditional_orders(self, **kw) -> Any:
        return self._request("private/cancel_all_conditional_orders", {}, **kw)

    def open_conditional_orders(self, **kw) -> Any:
        """``private/open_conditional_orders``: the active conditional orders."""
        return self._request("private/open_conditional_orders", {}, **kw)

    def conditional_orders(self, **kw) -> Any:
        """``private/conditional_orders``: active and formerly active. Deprecated in the spec
        (removal after 2026-09-30): prefer open_conditional_orders."""
        return self._request("private/conditional_orders", {}, **kw)
