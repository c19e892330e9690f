"""The control port: a ZeroMQ ROUTER speaking msgpack, and a PUB socket for telemetry.

Request ``{"cmd": NAME, "args": {...}}`` -> reply ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": "..."}``. Unknown commands, malformed requests and bad arguments get an
error that names what was wrong; nothing a client sends can raise out of :meth:`serve`. Binding to
anything but loopback requires CURVE: the server's secret key file and a directory of
authorised client public keys (zmq.auth certificate files).

The supervisor's main loop calls :meth:`serve` with a short timeout between its heartbeat
checks, and :meth:`publish` for telemetry events ({"event": ..., ...}) on the PUB socket. One
call answers at most ``max_requests`` requests within ``budget_ms``: a flood of clients must not
keep the supervisor from noticing a dead process (the rest wait in the socket for the next pass).
"""
from __future__ import annotations

import logging
import time

import msgpack
import zmq

from conf.load import is_loopback

log = logging.getLogger("control")


class ControlServer:
    def __init__(self, handlers: dict, host: str = "127.0.0.1", port: int = 7755, pub_port: int = 7756,
                 curve_secret_key_file: str = "", curve_client_keys_dir: str = ""):
        self.handlers = handlers
        self.ctx = zmq.Context.instance()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.pub = self.ctx.socket(zmq.PUB)
        self.auth = None
        for sock in (self.router, self.pub):
            sock.setsockopt(zmq.LINGER, 0)
        if not is_loopback(host):
            self._enable_curve(curve_secret_key_file, curve_client_keys_dir)
        try:
            self.router.bind(f"tcp://{host}:{port}")
            self.pub.bind(f"tcp://{host}:{pub_port}")
        except zmq.ZMQError as exc:
            self.close()
            raise OSError(f"control port tcp://{host}:{port} (telemetry {pub_port}): {exc}") from None
        self.endpoint = f"tcp://{host}:{port}"
        self.pub_endpoint = f"tcp://{host}:{pub_port}"
        self.requests = self.errors = 0

    def _enable_curve(self, secret_file: str, clients_dir: str) -> None:
        from zmq.auth import load_certificate
        from zmq.auth.thread import ThreadAuthenticator
        if not secret_file or not clients_dir:
            raise ValueError("a control port beyond loopback requires control.curve_secret_key_file "
                             "and control.curve_client_keys_dir")
        public, secret = load_certificate(secret_file)
        if secret is None:
            raise ValueError(f"control.curve_secret_key_file={secret_file}: holds no secret key")
        self.auth = ThreadAuthenticator(self.ctx)
        self.auth.start()
        self.auth.configure_curve(domain="*", location=clients_dir)
        for sock in (self.router, self.pub):
            sock.curve_secretkey, sock.curve_publickey, sock.curve_server = secret, public, True

    def serve(self, timeout_ms: int = 50, max_requests: int = 32, budget_ms: float = 20.0) -> int:
        """Wait up to ``timeout_ms`` for a request, then answer those waiting, at most
        ``max_requests`` of them and for no longer than ``budget_ms``; returns how many."""
        n = 0
        if not self.router.poll(timeout_ms):
            return 0
        deadline = time.monotonic() + budget_ms / 1e3
        while n < max_requests and (n == 0 or time.monotonic() < deadline):
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return n
            n += 1
            self.requests += 1
            reply = self._answer(frames[-1])
            self.router.send_multipart([*frames[:-1], msgpack.packb(reply, use_bin_type=True)])
        return n

    def _answer(self, payload: bytes) -> dict:
        try:
            request = msgpack.unpackb(payload, raw=False)
        except Exception as exc:   # any garbage a client can send
            return self._error(f"request is not msgpack: {exc}")
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return self._error('expected a map {"cmd": NAME, "args": {...}}')
        cmd, args = request["cmd"], request.get("args") or {}
        handler = self.handlers.get(cmd)
        if handler is None:
            return self._error(f"unknown command {cmd!r}: expected one of {', '.join(sorted(self.handlers))}")
        if not isinstance(args, dict):
            return self._error(f"{cmd}: args must be a map, got {type(args).__name__}")
        try:
            return {"ok": True, "result": handler(args)}
        except (ValueError, TypeError, KeyError) as exc:
            return self._error(f"{cmd}: {exc}")
        except Exception as exc:
            log.exception("control command %s failed", cmd)
            return self._error(f"{cmd} failed: {exc}")

    def _error(self, text: str) -> dict:
        self.errors += 1
        return {"ok": False, "error": text}

    def publish(self, event: dict) -> None:
        """One telemetry event on the PUB socket (topic = the event name)."""
        event.setdefault("time", time.time())
        self.pub.send_multipart([str(event.get("event", "event")).encode(),
                                 msgpack.packb(event, use_bin_type=True, default=str)])

    def close(self) -> None:
        for sock in (self.router, self.pub):
            sock.close(linger=0)
        if self.auth is not None:
            self.auth.stop()

