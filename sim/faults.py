"""Fault injection and state peeks for tests: the ``sim/*`` JSON-RPC methods.

They need no login but are answered only on loopback connections. Each changes one thing:
    sim/drop_connections {scope: public|private|all}  abort matching connections (not the caller)
    sim/delay_replies {seconds}    hold every later reply that long (0 = stop)
    sim/reject_next {n, code}      the next n order-entry requests fail with error ``code``
    sim/throttle {seconds}         order entry and cancels answer error 4 for that long
    sim/stall_feed {seconds}       no public market data is published for that long
    sim/trend {usd_per_s, seconds} extra drift (BTC terms, scaled for ETH) for that long
    sim/trade {instrument, direction, amount}  a market order from the background flow
    sim/portfolio {account}        positions, open orders and summary of an account
    sim/latency {clear?}           tick-to-order samples {"samples_ns": [...]}
    sim/register_key {key_id, public_key}  accept logins with one more API key (PEM text)
    sim/inject_public {frames, repeat?, interval_s?, pad_bytes?}  send these raw text frames, as
                                   they are, to every public (not logged-in) connection but the
                                   caller's: ``repeat`` times, ``interval_s`` apart; "$NOW" in a
                                   frame becomes the Unix time at sending; ``pad_bytes`` trailing
                                   spaces make a frame oversized (JSON allows them). For tests of
                                   market data that lies: bad JSON, absurd prices, bogus times.
    sim/inject_private {account, frames, repeat?, interval_s?, pad_bytes?}  the same, to every
                                   logged-in connection of account ``account`` (its private
                                   channels: session.orders, account.trade_history, ...). For
                                   tests of executions that lie: malformed, absurd, duplicated,
                                   out-of-order and oversized private frames.
    sim/options {...}              read, or change, the running options (volatility, drift,
                                   maker_fee, taker_fee, flow_rate, reach_bps)
"""
from __future__ import annotations

import asyncio
import time

from . import params as P
from .errors import ApiError, INVALID_REQUEST
from .ratelimit import CANCEL_METHODS, ORDER_METHODS

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
MAX_INJECTED_FRAMES = 10_000          # per call, frames x repeat
MAX_PAD_BYTES = 64 << 20
NOW_TOKEN = "$NOW"
TUNABLE = {"volatility": "market", "drift": "market", "flow_rate": "market",
           "reach_bps": "market", "maker_fee": "engine", "taker_fee": "engine"}


class Faults:
    """The active faults; ``until`` times are monotonic seconds."""

    def __init__(self):
        self.reply_delay_s = 0.0
        self.reject_n, self.reject_code = 0, 0
        self.throttle_until = 0.0
        self.stall_until = 0.0

    def feed_stalled(self) -> bool:
        return time.monotonic() < self.stall_until

    def check_request(self, method: str) -> None:
        """Raise the injected error for this request, if any is pending."""
        if method in ORDER_METHODS or method in CANCEL_METHODS:
            if time.monotonic() < self.throttle_until:
                raise ApiError(4, f"{method}: throttled (injected by sim/throttle)")
        if method in ORDER_METHODS and self.reject_n > 0:
            self.reject_n -= 1
            raise ApiError(self.reject_code, f"{method}: rejected (injected by sim/reject_next)")


def _seconds(p: dict, name: str = "seconds") -> float:
    value = P.number(p, name)
    if value < 0:
        raise ApiError(INVALID_REQUEST, f"{name}={value}: expected >= 0")
    return value


def handle(app, conn, method: str, p: dict):
    """Run one sim/* method on the exchange ``app``; returns its result."""
    f = app.faults
    if method == "sim/drop_connections":
        scope = P.string(p, "scope", "all", choices=("public", "private", "all"))
        return {"dropped": app.drop_connections(scope, except_conn=conn)}
    if method == "sim/delay_replies":
        f.reply_delay_s = _seconds(p)
        return {"seconds": f.reply_delay_s}
    if method == "sim/reject_next":
        f.reject_n = P.integer(p, "n", 0, 1_000_000, required=True)
        f.reject_code = P.integer(p, "code", 1, 10_000, required=True)
        return {"n": f.reject_n, "code": f.reject_code}
    if method == "sim/throttle":
        f.throttle_until = time.monotonic() + _seconds(p)
        return {"seconds": p["seconds"]}
    if method == "sim/stall_feed":
        f.stall_until = time.monotonic() + _seconds(p)
        return {"seconds": p["seconds"]}
    if method == "sim/trend":
        app.market.trend(P.number(p, "usd_per_s"), _seconds(p))
        return {"usd_per_s": p["usd_per_s"], "seconds": p["seconds"]}
    if method == "sim/trade":
        instr = P.instrument(p, app.engine.instruments, "instrument")
        direction = P.string(p, "direction", choices=("buy", "sell"), required=True)
        amount = P.amount(P.require(p, "amount"), instr)
        return app.market.market_order(instr.instrument_name, direction, amount)
    if method == "sim/portfolio":
        number = P.string(p, "account", required=True)
        if number not in app.engine.accounts:
            raise ApiError(INVALID_REQUEST, f"account={number!r}: no such account "
                                            f"(known: {', '.join(app.engine.accounts) or 'none'})")
        return app.account_state(app.engine.accounts[number])
    if method == "sim/latency":
        samples = list(app.latency.samples_ns)
        if P.boolean(p, "clear"):
            app.latency.samples_ns.clear()
        return {"samples_ns": samples}
    if method == "sim/register_key":
        kid = P.string(p, "key_id", required=True)
        pem = P.string(p, "public_key", required=True)
        app.auth.register(kid, pem.encode())
        return {"key_id": kid}
    if method == "sim/inject_public":
        return _inject(app, p, lambda: [c for c in app.connections
                                        if c is not conn and not c.session.logged_in])
    if method == "sim/inject_private":
        number = P.string(p, "account", required=True)
        if number not in app.engine.accounts:
            raise ApiError(INVALID_REQUEST, f"account={number!r}: no such account "
                                            f"(known: {', '.join(app.engine.accounts) or 'none'})")
        account = app.engine.accounts[number]
        return _inject(app, p, lambda: [c for c in app.connections
                                        if c is not conn and c.session.account is account])
    if method == "sim/options":
        for name, value in p.items():
            if name not in TUNABLE:
                raise ApiError(INVALID_REQUEST, f"option {name!r}: not tunable "
                                                f"(expected one of {', '.join(TUNABLE)})")
            setattr(app.market if TUNABLE[name] == "market" else app.engine, name,
                    P.number(p, name))
        return {name: getattr(app.market if where == "market" else app.engine, name)
                for name, where in TUNABLE.items()}
    raise ApiError(31, f"method {method!r}: unknown (sim/ methods: drop_connections, "
                       "delay_replies, reject_next, throttle, stall_feed, trend, trade, "
                       "portfolio, latency, register_key, inject_public, inject_private, options)")


def _inject(app, p: dict, targets_of) -> dict:
    """Send ``p["frames"]`` as they are to ``targets_of()`` (looked up again at every repeat)."""
    frames = P.require(p, "frames")
    if not isinstance(frames, list) or not frames or not all(isinstance(f, str) for f in frames):
        raise ApiError(INVALID_REQUEST, f"frames={str(frames)[:80]!r}: expected a non-empty list of strings")
    repeat = P.integer(p, "repeat", 1, MAX_INJECTED_FRAMES) or 1
    if len(frames) * repeat > MAX_INJECTED_FRAMES:
        raise ApiError(INVALID_REQUEST, f"frames x repeat = {len(frames) * repeat}: expected at most "
                                        f"{MAX_INJECTED_FRAMES}")
    interval_s = _seconds(p, "interval_s") if "interval_s" in p else 0.0
    pad = " " * (P.integer(p, "pad_bytes", 0, MAX_PAD_BYTES) or 0)

    def send() -> int:
        targets = targets_of()
        for text in frames:
            if NOW_TOKEN in text:
                text = text.replace(NOW_TOKEN, repr(round(time.time(), 6)))
            for conn in targets:
                conn.send_text(text + pad)
        return len(targets)

    reached = send()
    loop = asyncio.get_running_loop()
    for i in range(1, repeat):
        loop.call_later(i * interval_s, send)
    return {"connections": reached, "frames": len(frames) * repeat}
