"""The JSON-RPC methods (THALEX_API.md section 3): each takes (app, conn, params) and returns
the ``result`` value or raises ApiError. Routing of the notifications they cause is the server's."""
from __future__ import annotations

from . import params as P
from .errors import ApiError, AUTH_FAILED, INVALID_REQUEST, PERSISTENT_SESSION
from .history import RESOLUTIONS

API_VERSION = "2.55.0-sim"


def login(app, conn, p):
    kid, number = app.auth.login(P.require(p, "token"))
    wanted = P.string(p, "account")
    if wanted is not None and wanted != number:
        raise ApiError(AUTH_FAILED, f"account={wanted!r}: key {kid!r} trades account {number!r}")
    if conn.session.account is not None and conn.session.account.account_number != number:
        raise ApiError(AUTH_FAILED, f"this connection is already logged in to account "
                                    f"{conn.session.account.account_number!r}")
    conn.session.account = app.engine.account(number)
    conn.session.key_id = kid
    return {"account_number": number}


def instruments(app, conn, p):
    underlying = P.string(p, "underlying")
    kind = P.string(p, "instrument_type", choices=("futures", "options", "future_rolls"))
    expiry = P.string(p, "expiry_date")
    out = []
    for instr in app.engine.instruments.values():
        if underlying is not None and instr.underlying != underlying:
            continue
        if kind in ("options", "future_rolls"):
            continue
        if expiry is not None and instr.expiry_date != expiry:
            continue
        out.append(instr.to_dict())
    return out


def instrument(app, conn, p):
    return P.instrument(p, app.engine.instruments).to_dict()


def ticker(app, conn, p):
    return app.feeds.ticker(P.instrument(p, app.engine.instruments).instrument_name)


def index(app, conn, p):
    underlying = P.string(p, "underlying", required=True)
    if underlying not in app.market.index_px:
        raise ApiError(INVALID_REQUEST, f"underlying={underlying!r}: unknown "
                                        f"(known: {', '.join(sorted(app.market.index_px))})")
    return app.feeds.index(underlying)


def book(app, conn, p):
    return app.feeds.public_book(P.instrument(p, app.engine.instruments).instrument_name)


def mark_price_historical_data(app, conn, p):
    """The mark's OHLC bars from the exchange's own history (sim/history.py)."""
    instr = P.instrument(p, app.engine.instruments)
    from_s, to_s = P.number(p, "from"), P.number(p, "to")
    resolution = P.string(p, "resolution", choices=tuple(RESOLUTIONS), required=True)
    if not from_s < to_s:
        raise ApiError(INVALID_REQUEST, f"from={from_s}, to={to_s}: expected from < to (to is exclusive)")
    rows = app.history.rows(instr.instrument_name, from_s, to_s, resolution)
    result = {"instrument_type": instr.type, "mark": rows}
    if not rows:
        result["no_data"] = True
    return result


def system_info(app, conn, p):
    return {"environment": "testnet", "api_version": API_VERSION, "banners": []}


def public_subscribe(app, conn, p):
    return app.subscribe(conn, P.channels(p), private=False)


def private_subscribe(app, conn, p):
    return app.subscribe(conn, P.channels(p), private=True)


def unsubscribe(app, conn, p):
    names = P.channels(p)
    return [n for n in names if conn.session.subscriptions.pop(n, None) is not None]


def set_cancel_on_disconnect(app, conn, p):
    timeout = P.integer(p, "timeout_secs", 1, 3600, required=True)
    s = conn.session
    s.persistent = False
    s.cod_timeout_s = float(timeout)
    s.touch()
    return {"message_rate": s.limiter.make_non_persistent()}


def insert(app, conn, p):
    return app.engine.insert(conn.session, p)


def buy(app, conn, p):
    return app.engine.insert(conn.session, p, "buy")


def sell(app, conn, p):
    return app.engine.insert(conn.session, p, "sell")


def amend(app, conn, p):
    return app.engine.amend(conn.session, p)


def cancel(app, conn, p):
    return app.engine.cancel(conn.session, p)


def cancel_all(app, conn, p):
    return app.engine.cancel_all(conn.session.account)


def cancel_session(app, conn, p):
    s = conn.session
    if s.persistent:
        raise ApiError(PERSISTENT_SESSION, "cancel_session needs a non-persistent session: call "
                                           "private/set_cancel_on_disconnect first")
    app.engine.cancel_session_orders(s, "session_end")
    app.quoter.reset_session(s, "session_end")
    return None


def mass_quote(app, conn, p):
    return app.quoter.mass_quote(conn.session, p)


def cancel_mass_quote(app, conn, p):
    app.quoter.cancel_mass_quote(conn.session, p, [c.session for c in app.connections])
    return None


def set_mm_protection(app, conn, p):
    app.quoter.set_mm_protection(conn.session, p)
    return None


def portfolio(app, conn, p):
    return app.portfolio(conn.session.account)


def open_orders(app, conn, p):
    return [o.status_dict("existing", o.all_fills) for o in conn.session.account.orders.values()]


def account_summary(app, conn, p):
    return app.summary(conn.session.account)


def trade_history(app, conn, p):
    """Filters of the spec; ``bookmark`` is the number of trades already returned."""
    limit = P.integer(p, "limit", 1, 1000) or 100
    low = P.number(p, "time_low", required=False)
    high = P.number(p, "time_high", required=False)
    sort = P.string(p, "sort", "descending", choices=("ascending", "descending"))
    names = P.string(p, "instrument_names")
    order_ids = P.string(p, "order_ids")
    direction = P.string(p, "direction", choices=("buy", "sell"))
    label = P.string(p, "label")
    bookmark = p.get("bookmark")
    if bookmark is not None and not (isinstance(bookmark, str) and bookmark.isdigit()):
        raise ApiError(INVALID_REQUEST, f"bookmark={bookmark!r}: expected a bookmark string "
                                        "returned by an earlier trade_history call")
    skip = int(bookmark or 0)
    wanted_names = set(names.split(",")) if names else None
    wanted_ids = set(order_ids.split(",")) if order_ids else None
    trades = [t for t in conn.session.account.trades
              if (low is None or t["time"] >= low) and (high is None or t["time"] <= high)
              and (wanted_names is None or t["instrument_name"] in wanted_names)
              and (wanted_ids is None or t["order_id"] in wanted_ids)
              and (direction is None or t["direction"] == direction)
              and (label is None or t.get("label") == label)]
    if sort == "descending":
        trades.reverse()
    page = trades[skip:skip + limit]
    more = skip + limit < len(trades)
    return {"trades": page, "bookmark": str(skip + limit) if more else None}


def create_conditional_order(app, conn, p):
    return app.conditional.create(conn.session.account, p)


def cancel_conditional_order(app, conn, p):
    app.conditional.cancel(conn.session.account, p)
    return None


def cancel_all_conditional_orders(app, conn, p):
    app.conditional.cancel_all(conn.session.account)
    return None


def open_conditional_orders(app, conn, p):
    return app.conditional.open_orders(conn.session.account)


def conditional_orders(app, conn, p):
    """Deprecated in the spec (removal after 2026-09-30): active and formerly active orders."""
    return app.conditional.listed(conn.session.account)


def conditional_order_history(app, conn, p):
    return app.conditional.history(conn.session.account, p)


PUBLIC = {
    "public/login": login, "public/instruments": instruments,
    "public/all_instruments": instruments, "public/instrument": instrument,
    "public/ticker": ticker, "public/index": index, "public/book": book,
    "public/system_info": system_info, "public/subscribe": public_subscribe,
    "public/mark_price_historical_data": mark_price_historical_data,
    "unsubscribe": unsubscribe,
}
PRIVATE = {
    "private/subscribe": private_subscribe,
    "private/set_cancel_on_disconnect": set_cancel_on_disconnect,
    "private/insert": insert, "private/buy": buy, "private/sell": sell, "private/amend": amend,
    "private/cancel": cancel, "private/cancel_all": cancel_all,
    "private/cancel_session": cancel_session, "private/mass_quote": mass_quote,
    "private/cancel_mass_quote": cancel_mass_quote, "private/set_mm_protection": set_mm_protection,
    "private/portfolio": portfolio, "private/open_orders": open_orders,
    "private/trade_history": trade_history, "private/account_summary": account_summary,
    "private/create_conditional_order": create_conditional_order,
    "private/cancel_conditional_order": cancel_conditional_order,
    "private/cancel_all_conditional_orders": cancel_all_conditional_orders,
    "private/open_conditional_orders": open_conditional_orders,
    "private/conditional_orders": conditional_orders,
    "private/conditional_order_history": conditional_order_history,
}
