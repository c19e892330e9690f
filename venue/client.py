"""A synchronous Thalex websocket client: one connection, owned and driven by one thread.

Requests are ``{"method", "params", "id"}`` frames with an integer id from a per-connection
counter; replies are matched by that id and may arrive in any order (Thalex answers pipelined
requests out of order). Three ways to ask:

* ``call(method, params)`` sends and blocks until the reply, dispatching every notification that
  arrives meanwhile; an error reply raises ``ThalexError``, silence raises ``ThalexTimeout``.
* ``send(method, params, callback=None)`` returns the id at once (pipelining). The reply is later
  given to ``callback(result, error)`` from ``poll``, or kept for ``reply(id)``.
* ``poll(timeout_s)`` waits up to ``timeout_s`` for a frame, then drains what is already there
  (up to ``max_batch`` frames) and dispatches it; returns the number of frames handled.
* ``send_encoded(rid, method, payload, callback)`` sends a request its caller already encoded
  (the gateway's mass quotes: kernels/mass_quote.pyx) with an id from ``next_id()``.

websocket-client makes the connection (handshake, TLS) and closes it; in between, frames avoid
its Python layers both ways: frames we send are built and masked by kernels/ws_frame.pyx and
written to the socket directly (mask keys drawn from os.urandom in batches), frames we receive
are cut out of one buffer by venue/frames.py, and a poll that finds nothing costs one poll(2).
A ping from the server is answered with a pong at once.

Notifications go to the handler registered (``on(prefix, handler)``) for the longest prefix of
their ``channel_name``; ``handler(channel, notification, frame)``. An optional ``frame_hook``
sees the raw bytes of every text frame first (the feed's zero-copy decoder) and returns True when
it consumed the frame; a hook that raises is counted (``handler_error``) and the frame dropped.

Keep-alive without a thread: ``poll`` and ``call`` send a websocket ping whenever
``ping_interval_s`` has passed since the last one. The owner's loop already calls ``poll`` every
few milliseconds, so a background thread would only add locking on the socket; the cost is that an
owner stuck longer than the interval sends no ping, which cancel-on-disconnect then (rightly)
treats as a dead client. Choose ``set_cancel_on_disconnect`` timeouts comfortably above
``ping_interval_s`` (conf/schema.py Gateway enforces the rule for the gateway's connection).

Frames we cannot use (bad JSON, not an object, unknown id, unhandled channel, handler failures,
binary frames...) are counted per reason in ``rejects.counts`` and logged with channel and reason;
they never escape ``poll``. Only a lost connection does (``ThalexConnectionError``). Request
parameters are never logged (the login token is one of them).
"""
from __future__ import annotations

import logging
import os
import select
import socket
import ssl
import time
from typing import Any, Callable

import orjson
import websocket

from kernels.ws_frame import masked_frame
from venue.api import ThalexApi
from venue.frames import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, ConnectionClosed, FrameReader, ProtocolError
from venue.errors import ThalexConnectionError, ThalexError, ThalexTimeout
from venue.frame_log import RejectLog

log = logging.getLogger("venue.client")

ReplyCallback = Callable[[Any, "ThalexError | None"], None]
NotificationHandler = Callable[[str, Any, dict], None]

_CONTROL = b""          # a ping/pong/binary frame was read: activity, nothing to dispatch
_ABANDONED_KEEP = 1024  # timed-out ids remembered, so their late replies are named as such
_MASK_KEYS = 4096       # bytes of os.urandom drawn at a time for frame mask keys (4 per frame)


class ThalexClient(ThalexApi):
    """See the module doc. ``timeout_s`` bounds connecting and every ``call`` by default."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, ping_interval_s: float = 5.0,
                 max_batch: int = 256, connect: bool = True):
        if not timeout_s > 0:
            raise ValueError(f"timeout_s={timeout_s}: must be > 0")
        if not ping_interval_s > 0:
            raise ValueError(f"ping_interval_s={ping_interval_s}: must be > 0")
        self.url = url
        self.timeout_s = timeout_s
        self.ping_interval_s = ping_interval_s
        self.max_batch = max_batch
        self.frame_hook: Callable[[bytes], bool] | None = None
        self.rejects = RejectLog(log)
        self.frames_received = 0
        self.pongs_received = 0
        self.last_receive_s = 0.0   # time.monotonic() of the last frame of any kind
        self._ws: websocket.WebSocket | None = None
        self._next_id = 1
        self._pending: dict[int, tuple[str, ReplyCallback | None]] = {}
        self._replies: dict[int, tuple[Any, ThalexError | None]] = {}
        self._abandoned: dict[int, str] = {}
        self._handlers: dict[str, NotificationHandler] = {}
        self._routes: dict[str, NotificationHandler] = {}
        self._last_ping_s = 0.0
        self._reader: FrameReader | None = None
        self._keys, self._key_at = b"", _MASK_KEYS
        if connect:
            self.connect()

    # ---- connection ---------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the websocket, unless this client already has one open (the constructor opens it
        by default, and callers that call connect() again must not get a second connection, whose
        session would hold orders and subscriptions nobody reads). After ``close()`` it opens anew."""
        if self.connected:
            return
        try:
            self._ws = websocket.create_connection(
                self.url, timeout=self.timeout_s, skip_utf8_validation=True,
                sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),))
        except (OSError, websocket.WebSocketException) as exc:
            raise ThalexConnectionError(f"cannot connect to {self.url}: {exc}") from exc
        self._reader = FrameReader(self._ws.sock)
        self._last_ping_s = self.last_receive_s = time.monotonic()

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.connected

    def close(self, answered: bool = False) -> None:
        """Close the socket. Unanswered requests are abandoned (a late reply would be counted).

        ``answered``: the server's close frame was already answered, so only drop the socket
        (a second close frame makes a websockets server wait out its close timeout).
        """
        for rid in list(self._pending):
            self._abandon(rid)
        ws, self._ws = self._ws, None
        self._reader = None
        if ws is not None and answered:
            ws.shutdown()
        elif ws is not None:
            try:
                ws.close(timeout=1.0)
            except (OSError, websocket.WebSocketException):
                ws.shutdown()

    def __enter__(self) -> "ThalexClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- subscriptions' handlers --------------------------------------------------------------
    def on(self, prefix: str, handler: NotificationHandler) -> None:
        """Route notifications whose channel_name starts with ``prefix`` (longest prefix wins)."""
        self._handlers[prefix] = handler
        self._routes.clear()

    def off(self, prefix: str) -> None:
        self._handlers.pop(prefix, None)
        self._routes.clear()

    def _route(self, channel: str) -> NotificationHandler | None:
        handler = self._routes.get(channel)
        if handler is None:
            best = -1
            for prefix, candidate in self._handlers.items():
                if len(prefix) > best and channel.startswith(prefix):
                    best, handler = len(prefix), candidate
            if handler is not None:
                self._routes[channel] = handler
        return handler

    # ---- requests -----------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, callback: ReplyCallback | None = None) -> int:
        """Send one request now; returns its id. The reply goes to ``callback`` or ``reply(id)``."""
        rid = self._next_id
        self._next_id = rid + 1
        frame = orjson.dumps({"method": method, "params": {} if params is None else params, "id": rid})
        self._pending[rid] = (method, callback)
        self._write(frame, OP_TEXT)
        return rid

    def next_id(self) -> int:
        """A fresh request id, for a request the caller encodes itself (``send_encoded``)."""
        rid = self._next_id
        self._next_id = rid + 1
        return rid

    def send_encoded(self, rid: int, method: str, payload: bytes, callback: ReplyCallback | None = None) -> None:
        """Send a request already encoded: ``payload`` is its JSON (bytes) carrying ``"id": rid``
        from ``next_id()``; the reply goes to ``callback`` or ``reply(rid)`` as for ``send``."""
        self._pending[rid] = (method, callback)
        self._write(payload, OP_TEXT)

    def call(self, method: str, params: dict | None = None, timeout_s: float | None = None) -> Any:
        """Send and wait for the reply's ``result``; notifications meanwhile are dispatched."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        rid = self.send(method, params)
        deadline = time.monotonic() + timeout
        while rid not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._abandon(rid)
                raise ThalexTimeout(method, rid, timeout)
            self.poll(min(remaining, self.ping_interval_s))
        return self.reply(rid)

    def has_reply(self, rid: int) -> bool:
        return rid in self._replies

    def reply(self, rid: int) -> Any:
        """The stored result of a ``send`` without callback (removed once read).

        Raises KeyError if it has not arrived, ThalexError if the exchange answered an error.
        """
        result, error = self._replies.pop(rid)
        if error is not None:
            raise error
        return result

    @property
    def pending(self) -> int:
        """Requests sent and not answered yet."""
        return len(self._pending)

    def _abandon(self, rid: int) -> None:
        entry = self._pending.pop(rid, None)
        if entry is not None:
            self._abandoned[rid] = entry[0]
            if len(self._abandoned) > _ABANDONED_KEEP:
                del self._abandoned[next(iter(self._abandoned))]

    # ---- receiving ----------------------------------------------------------------------------
    def poll(self, timeout_s: float = 0.0, max_frames: int | None = None) -> int:
        """Wait up to ``timeout_s`` (seconds) for frames, dispatch them; returns frames handled.

        ``max_frames`` (default ``max_batch``) bounds one call, so that a caller with other
        latency-critical work (the gateway's ladders) gets back to it during a burst."""
        limit = self.max_batch if max_frames is None else max_frames
        now = time.monotonic()
        if now - self._last_ping_s >= self.ping_interval_s:
            self._last_ping_s = now
            self._write(b"", OP_PING)
        handled = 0
        data = self._read_frame(timeout_s)
        while data is not None:
            if data is not _CONTROL:
                self._dispatch(data)
                handled += 1
                if handled >= limit:
                    break
            data = self._read_frame(0.0)
        return handled

    def _read_frame(self, timeout_s: float) -> bytes | None:
        """The payload of the next text frame, _CONTROL for other frames, None if none in time."""
        reader = self._reader
        if reader is None:
            raise ThalexConnectionError(f"{self.url}: not connected")
        try:
            frame = reader.read(timeout_s)
        except ProtocolError as exc:
            # The byte stream itself is broken: nothing after this can be trusted.
            self.rejects.reject("protocol_error", None, str(exc))
            self.close()
            raise ThalexConnectionError(f"{self.url}: websocket protocol error: {exc}") from exc
        except (OSError, ConnectionClosed) as exc:
            self.close(answered=True)
            raise ThalexConnectionError(f"{self.url}: connection lost: {exc}") from exc
        if frame is None:
            return None
        opcode, data = frame
        self.last_receive_s = time.monotonic()
        if opcode == OP_TEXT:
            self.frames_received += 1
            return data
        if opcode == OP_CLOSE:
            code = data[:2]
            self.close(answered=True)
            raise ThalexConnectionError(
                f"{self.url}: server closed the connection (close code "
                f"{int.from_bytes(code, 'big') if len(code) == 2 else 'none'})")
        if opcode == OP_PONG:
            self.pongs_received += 1
        elif opcode == OP_PING:
            self._write(data, OP_PONG)
        elif opcode == OP_BINARY:
            self.rejects.reject("binary_frame", None, f"{len(data)} bytes")
        return _CONTROL

    def _mask_key(self) -> bytes:
        at = self._key_at
        if at >= _MASK_KEYS:
            self._keys, at = os.urandom(_MASK_KEYS), 0
        self._key_at = at + 4
        return self._keys[at:at + 4]

    def _write(self, data: bytes, opcode: int) -> None:
        ws = self._ws
        if ws is None:
            raise ThalexConnectionError(f"{self.url}: not connected")
        try:
            frame = masked_frame(data, self._mask_key(), opcode)
            sock = ws.sock
            try:
                sent = sock.send(frame)
            except (BlockingIOError, ssl.SSLWantWriteError):
                sent = 0
            if sent < len(frame):
                self._send_rest(sock, frame, sent)
        except (OSError, websocket.WebSocketException) as exc:
            self.close()
            raise ThalexConnectionError(f"{self.url}: send failed: {exc}") from exc

    def _send_rest(self, sock, frame: bytes, sent: int) -> None:
        """The socket took part of ``frame`` (it is non-blocking between polls): wait for room,
        at most ``timeout_s`` in all."""
        deadline = time.monotonic() + self.timeout_s
        view = memoryview(frame)
        while sent < len(frame):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(frame) - sent} bytes not sent within {self.timeout_s}s")
            select.select([], [sock], [], left)
            try:
                sent += sock.send(view[sent:])
            except (BlockingIOError, ssl.SSLWantWriteError):
                continue

    def _dispatch(self, data: bytes) -> None:
        hook = self.frame_hook
        if hook is not None:
            try:
                if hook(data):
                    return
            except Exception as exc:  # a decoder bug must not kill the receive loop either
                self.rejects.reject("handler_error", None, f"frame hook: {exc!r}")
                log.debug("frame hook failed", exc_info=True)
                return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self.rejects.reject("bad_json", None, f"{exc}; frame starts {bytes(data[:80])!r}")
            return
        if type(msg) is not dict:
            self.rejects.reject("not_an_object", None, f"got {type(msg).__name__}")
            return
        channel = msg.get("channel_name")
        if channel is not None:
            self._notify(channel, msg)
        elif "result" in msg or "error" in msg:
            self._resolve(msg)
        else:
            self.rejects.reject("unrecognised_frame", None, f"keys {sorted(msg)[:8]}")

    def _notify(self, channel: Any, msg: dict) -> None:
        if type(channel) is not str:
            self.rejects.reject("bad_channel_name", None, f"channel_name {channel!r}")
            return
        if "notification" not in msg:
            self.rejects.reject("notification_missing", channel)
            return
        handler = self._route(channel)
        if handler is None:
            self.rejects.reject("unhandled_channel", channel)
            return
        try:
            handler(channel, msg["notification"], msg)
        except Exception as exc:  # a handler bug must not kill the receive loop
            self.rejects.reject("handler_error", channel, repr(exc))
            log.debug("handler for %s failed", channel, exc_info=True)

    def _resolve(self, msg: dict) -> None:
        rid = msg.get("id")
        if rid is None:
            self.rejects.reject("reply_without_id", None, f"error {msg.get('error')!r}")
            return
        if type(rid) is not int:
            self.rejects.reject("bad_id", None, f"id {rid!r}")
            return
        entry = self._pending.pop(rid, None)
        if entry is None:
            method = self._abandoned.pop(rid, None)
            if method is not None:
                self.rejects.reject("late_reply", None, f"id {rid} ({method}) after its timeout")
            else:
                self.rejects.reject("unknown_id", None, f"id {rid}")
            return
        method, callback = entry
        result, error = None, None
        if "error" in msg:
            err = msg["error"]
            if type(err) is dict and type(err.get("code")) is int:
                error = ThalexError(err["code"], str(err.get("message", "")), method)
            else:
                self.rejects.reject("bad_error_object", None, f"id {rid} ({method}): {err!r}")
                error = ThalexError(-1, f"malformed error object {err!r}", method)
        else:
            result = msg["result"]
        if callback is None:
            self._replies[rid] = (result, error)
            return
        try:
            callback(result, error)
        except Exception as exc:
            self.rejects.reject("handler_error", None, f"reply callback for {method}: {exc!r}")
            log.debug("reply callback for %s failed", method, exc_info=True)
