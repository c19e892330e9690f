"""The local exchange's WebSocket server: connections, the JSON-RPC envelope, dispatch, sessions.

Every request gets exactly one reply ``{"id", "result"}`` or ``{"id", "error": {code, message}}``
(id echoed, null when absent); bad input never closes the connection. Frames to one connection
go out in order through its outbox. The market steps every ``tick_interval`` seconds on the
same loop, so engine state is only ever touched by one coroutine at a time.
"""
from __future__ import annotations

import asyncio
import logging
import time

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from . import faults, handlers
from .auth import Authenticator
from .channels import parse as parse_channel
from .conditional import ConditionalOrders
from .engine import Engine
from .errors import ApiError, INVALID_REQUEST, NOT_LOGGED_IN, THROTTLED, UNKNOWN_METHOD
from .feeds import Feeds
from .history import MarkHistory, run_past
from .instruments import default_instruments
from .latency import LatencyProbe
from .market import Market
from .massquote import MassQuoter
from .publisher import Publisher
from .ratelimit import ORDER_METHODS
from .session import Session

log = logging.getLogger("sim")
PATH = "/ws/api/v2"
MAX_FRAME = 1 << 20
# Wallet queries that the official client 1.3.0 sends as public/... (a client bug, section 3.7).
WALLET_ALIASES = ("crypto_withdrawals", "crypto_deposits", "btc_deposit_address", "eth_deposit_address")


class ActivityConnection(ServerConnection):
    """A ServerConnection that notes every byte received, pings included, as session activity
    (the websockets library answers pings itself, so this is the only place to see them)."""

    on_activity = None

    def data_received(self, data: bytes) -> None:
        if self.on_activity is not None:
            self.on_activity()
        super().data_received(data)


class Conn:
    """One client connection: its websocket, its session and an ordered outbox."""

    def __init__(self, ws: ServerConnection, session: Session):
        self.ws, self.session = ws, session
        self.queue: asyncio.Queue = asyncio.Queue()

    def send_text(self, text: str, on_send=None) -> None:
        if not self.session.closed:
            self.queue.put_nowait((text, on_send))

    def reply(self, req_id, result=None, error: ApiError | None = None, delay_s: float = 0.0):
        body = {"id": req_id, "error": error.to_dict()} if error else {"id": req_id, "result": result}
        text = orjson.dumps(body).decode()
        if delay_s > 0:
            asyncio.get_running_loop().call_later(delay_s, self.send_text, text)
        else:
            self.send_text(text)

    def notify(self, channel: str, payload, snapshot: bool = False, on_send=None) -> None:
        body = {"channel_name": channel, "notification": payload}
        if snapshot:
            body["snapshot"] = True
        self.send_text(orjson.dumps(body).decode(), on_send)

    async def write_loop(self) -> None:
        try:
            while True:
                text, on_send = await self.queue.get()
                if on_send is not None:
                    # Right before the write, not after it: a client woken inside our send may
                    # preempt us there (same core, a shorter time slice) and would otherwise be
                    # credited with whatever it did before we got the core back.
                    on_send()
                await self.ws.send(text)
        except ConnectionClosed:
            pass          # the reader side notices too and ends the session


class Exchange:
    """The whole local exchange. ``opts`` are the CLI options (see sim/__main__.py)."""

    def __init__(self, opts):
        self.opts = opts
        self.engine = Engine(default_instruments(), opts.maker_fee, opts.taker_fee,
                             recent_trades_kept=opts.recent_trades)
        self.market = Market(self.engine, opts.seed, opts.volatility, opts.drift,
                             opts.flow_rate, opts.reach_bps)
        self.history = MarkHistory(self.engine, self.market)
        self.quoter = MassQuoter(self.engine)
        self.conditional = ConditionalOrders(self.engine)
        self.feeds = Feeds(self.engine, self.market)
        self.auth = Authenticator(opts.public_keys)
        self.faults = faults.Faults()
        self.latency = LatencyProbe()
        self.publisher = Publisher(self)
        self.connections: list[Conn] = []
        self._by_session: dict[int, Conn] = {}
        self.underlyings = {i.underlying for i in self.engine.instruments.values()}
        if opts.history_s > 0:
            step_s = opts.history_step_s or opts.tick_interval
            started = time.monotonic()
            steps = run_past(self.engine, self.market, self.history, opts.history_s, step_s)
            log.info("ran %d steps (%.0f s of market, every %.3g s) before listening, in %.1f s",
                     steps, opts.history_s, step_s, time.monotonic() - started)

    # ---------------------------------------------------------------- lookups used by handlers
    def conn_of(self, session) -> Conn | None:
        if session is None or session.closed:
            return None
        return self._by_session.get(session.session_id)

    def portfolio(self, account, names=None, include_flat: bool = False) -> list[dict]:
        out = []
        for name, pos in account.positions.items():
            if (names is not None and name not in names) or (not pos.position and not include_flat):
                continue
            underlying = self.engine.instruments[name].underlying
            out.append(account.portfolio_entry(pos, self.market.mark(name), self.market.index(underlying)))
        return out

    def summary(self, account) -> dict:
        return account.summary({n: self.market.mark(n) for n in self.engine.instruments})

    def account_state(self, account) -> dict:
        return {"account_number": account.account_number, "portfolio": self.portfolio(account),
                "open_orders": [o.status_dict("existing", o.all_fills) for o in account.orders.values()],
                "summary": self.summary(account), "trades": len(account.trades)}

    def subscribe(self, conn: Conn, names: list[str], private: bool) -> list[str]:
        """The channels now subscribed, in the order asked. As on Thalex the call succeeds even
        when some or all names are invalid: those are left out of the result (and logged here),
        so the caller must compare the result with what it asked for."""
        subscribed, fresh = [], []
        for name in names:
            try:
                ch = parse_channel(name, self.engine.instruments, self.underlyings)
                if ch.private and not private:
                    raise ApiError(INVALID_REQUEST, f"channel {name!r} is private: use private/subscribe")
            except ApiError as e:
                log.info("session %d: subscribe skipped %s", conn.session.session_id, e.message)
                continue
            if name in subscribed:
                continue
            subscribed.append(name)
            if name not in conn.session.subscriptions:
                conn.session.subscriptions[name] = ch
                fresh.append(ch)
        # Snapshots go after the reply: the caller learns the names first, then the state.
        asyncio.get_running_loop().call_soon(self._snapshots, conn, fresh)
        return subscribed

    def _snapshots(self, conn, channels) -> None:
        for ch in channels:
            if conn.session.subscriptions.get(ch.name) is ch:
                self.publisher.snapshot(conn, ch)

    def drop_connections(self, scope: str, except_conn=None) -> int:
        dropped = 0
        for conn in list(self.connections):
            if conn is except_conn:
                continue
            if scope == "all" or (scope == "private") == conn.session.logged_in:
                self.end_session(conn)
                conn.ws.transport.abort()
                dropped += 1
        return dropped

    def end_session(self, conn: Conn) -> None:
        """The connection is gone (or declared dead): delete its non-persistent orders."""
        s = conn.session
        if s.closed:
            return
        s.closed = True
        if conn in self.connections:
            self.connections.remove(conn)
        self._by_session.pop(s.session_id, None)
        if s.account is not None:
            self.engine.cancel_session_orders(s, "session_end")
            self.quoter.reset_session(s, "session_end")
        self.publisher.route(self.engine.drain_events())

    # ---------------------------------------------------------------- requests
    async def handle_connection(self, ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path.split("?")[0] != PATH:
            await ws.close(1008, f"unknown path {ws.request.path!r}: expected {PATH}")
            return
        remote = ws.remote_address[0] if ws.remote_address else "?"
        session = Session(remote=remote)
        conn = Conn(ws, session)
        ws.on_activity = session.touch
        self.connections.append(conn)
        self._by_session[session.session_id] = conn
        writer = asyncio.create_task(conn.write_loop())
        try:
            async for raw in ws:
                self.handle_frame(conn, raw, time.monotonic_ns())
        except ConnectionClosed:
            pass
        finally:
            self.end_session(conn)
            writer.cancel()

    def handle_frame(self, conn: Conn, raw, arrived_ns: int) -> None:
        req_id, msg = None, None
        try:
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                raise ApiError(INVALID_REQUEST, f"malformed JSON ({e}): expected one JSON object "
                                                "per frame") from None
            if not isinstance(msg, dict):
                raise ApiError(INVALID_REQUEST, f"request is a {type(msg).__name__}: expected a "
                                                "JSON object {method, params, id}")
            req_id = msg.get("id")
            result = self.dispatch(conn, msg, arrived_ns)
            error = None
        except ApiError as e:
            result, error = None, e
        except Exception as e:  # a bug must not kill the connection: answer and log it
            log.exception("internal error handling %r", raw[:200])
            result, error = None, ApiError(20, f"internal error: {type(e).__name__}: {e}")
        method = msg.get("method") if isinstance(msg, dict) else None
        delay = 0.0 if isinstance(method, str) and method.startswith("sim/") else self.faults.reply_delay_s
        conn.reply(req_id, result, error, delay)
        try:
            self.conditional.check()     # a request's trades may reach a stop price
            self.publisher.route(self.engine.drain_events())
        except Exception:  # a routing bug must not cost the client its connection
            log.exception("routing notifications after %r failed", method)

    def dispatch(self, conn: Conn, msg: dict, arrived_ns: int):
        method = msg.get("method")
        if not isinstance(method, str):
            raise ApiError(INVALID_REQUEST, f"method={method!r}: expected a method name string")
        params = msg.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ApiError(INVALID_REQUEST, f"params={params!r}: expected a JSON object")
        if method.startswith("sim/"):
            if conn.session.remote not in faults.LOOPBACK:
                raise ApiError(UNKNOWN_METHOD, f"method {method!r}: only answered on loopback")
            return faults.handle(self, conn, method, params)
        if method.startswith("public/") and method.split("/", 1)[1] in WALLET_ALIASES:
            method = "private/" + method.split("/", 1)[1]
        fn = handlers.PUBLIC.get(method)
        if fn is None:
            fn = handlers.PRIVATE.get(method)
            if fn is None:
                # Error codes follow the community-sourced list of THALEX_API.md section 6.
                raise ApiError(UNKNOWN_METHOD, f"method {method!r}: unknown to this exchange")
            if not conn.session.logged_in:
                raise ApiError(NOT_LOGGED_IN, f"{method}: not logged in (call public/login first)")
            self.faults.check_request(method)
            if not conn.session.limiter.allow(method):
                raise ApiError(THROTTLED, f"{method}: message rate exceeded on this connection")
            if method in ORDER_METHODS:
                self.latency.order_arrived(params.get("label"), arrived_ns)
        return fn(self, conn, params)

    # ---------------------------------------------------------------- background loops
    async def market_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.opts.tick_interval
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            if loop.time() - due > 10 * interval:
                due = loop.time()          # fell far behind (e.g. suspended): do not burst
            try:
                self.market.step(interval)
                self.history.record(self.engine.clock())
                self.conditional.check()
                self.publisher.route(self.engine.drain_events())
                self.publisher.market_step()
                self.watch_heartbeats()
            except Exception:
                log.exception("market step failed")

    def watch_heartbeats(self) -> None:
        """Non-persistent sessions silent for longer than their timeout are dead."""
        now = time.monotonic()
        for conn in list(self.connections):
            s = conn.session
            if s.cod_timeout_s is not None and now - s.last_activity > s.cod_timeout_s:
                log.info("session %d silent for %.1f s > %.0f s: cancelling its orders",
                         s.session_id, now - s.last_activity, s.cod_timeout_s)
                self.end_session(conn)
                conn.ws.transport.abort()


async def run(opts, ready=None, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set; ``ready(url)`` is called once listening."""
    exchange = Exchange(opts)
    async with serve(exchange.handle_connection, opts.host, opts.port, max_size=MAX_FRAME,
                     ping_interval=None, create_connection=ActivityConnection,
                     compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"ws://{opts.host}:{port}{PATH}"
        market = asyncio.create_task(exchange.market_loop())
        if ready is not None:
            ready(url)
        try:
            await (stop.wait() if stop is not None else asyncio.Future())
        finally:
            market.cancel()
            for conn in list(exchange.connections):
                conn.ws.transport.abort()
