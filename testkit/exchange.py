"""Test helpers: a real ``python -m sim`` subprocess and RSA API keys.

    with running_sim(api_keys={kid: public_pem}) as sim:
        sim.call("public/instruments", {})
"""
from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import jwt
import orjson
import websocket

from sim.keys import make_key_pair  # noqa: F401  (re-exported for tests)
from sim.process import SimProcess


_last_iat = 0.0


def make_token(kid: str, private_pem_path, iat: float | None = None, algorithm: str = "RS512") -> str:
    """A login JWT; iat defaults to now, nudged so two tokens never share an iat."""
    global _last_iat
    if iat is None:
        iat = max(time.time(), _last_iat + 1e-3)
        _last_iat = iat
    return jwt.encode({"iat": iat}, Path(private_pem_path).read_bytes(), algorithm=algorithm,
                      headers={"kid": kid})


class Client:
    """A tiny synchronous client: ``call`` sends one request and returns its reply (a dict with
    result or error); notifications seen meanwhile are kept in ``notifications``."""

    def __init__(self, url: str, timeout_s: float = 10.0):
        self.ws = websocket.create_connection(url, timeout=timeout_s)
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self.notifications: list[dict] = []

    def send(self, method: str, params: dict | None = None, req_id=None) -> int:
        req_id = next(self._ids) if req_id is None else req_id
        self.ws.send(orjson.dumps({"method": method, "params": params or {}, "id": req_id}).decode())
        return req_id

    def send_raw(self, text: str) -> None:
        self.ws.send(text)

    def recv(self, timeout_s: float | None = None) -> dict:
        self.ws.settimeout(timeout_s or self.timeout_s)
        return orjson.loads(self.ws.recv())

    def reply_to(self, req_id, timeout_s: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to id={req_id} within {timeout_s or self.timeout_s} s")
            msg = self.recv(left)
            if "channel_name" in msg:
                self.notifications.append(msg)
            elif msg.get("id") == req_id:
                return msg

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.reply_to(self.send(method, params))

    def result(self, method: str, params: dict | None = None):
        """The result of a call that must succeed (AssertionError with the error otherwise)."""
        reply = self.call(method, params)
        assert "result" in reply, f"{method} {params} failed: {reply}"
        return reply["result"]

    def wait_for(self, predicate, timeout_s: float = 10.0) -> dict:
        """The first (already seen or new) notification for which ``predicate(msg)`` holds."""
        for i, msg in enumerate(self.notifications):
            if predicate(msg):
                return self.notifications.pop(i)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                msg = self.recv(max(0.01, deadline - time.monotonic()))
            except websocket.WebSocketTimeoutException:
                break
            if "channel_name" in msg and predicate(msg):
                return msg
            self.notifications.append(msg)
        raise TimeoutError(f"no matching notification within {timeout_s} s")

    def login(self, kid: str, private_pem_path) -> str:
        return self.result("public/login", {"token": make_token(kid, private_pem_path)})["account_number"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


class RunningSim:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc, self.url, self.pid = proc, url, proc.pid
        self._control: Client | None = None

    def client(self, timeout_s: float = 10.0) -> Client:
        return Client(self.url, timeout_s)

    def call(self, method: str, params: dict | None = None) -> dict:
        """One request on a shared control connection; returns the whole reply."""
        if self._control is None:
            self._control = self.client()
        return self._control.call(method, params)


@contextlib.contextmanager
def running_sim(api_keys: dict | None = None, start_timeout_s: float = 20.0, grace_s: float = 5.0,
                **opts):
    """Start ``python -m sim --port 0`` (extra CLI options as keyword arguments, e.g.
    ``seed=3, tick_interval=0.05``; ``api_keys`` maps key id -> public PEM path), yield a
    RunningSim, stop it by pid (SIGTERM, then SIGKILL after ``grace_s``)."""
    # stderr goes to a file, not a pipe: an unread pipe would fill up and block the exchange.
    log = tempfile.TemporaryFile()
    sim = SimProcess(api_keys, stderr=log, **opts)
    running = None
    try:
        try:
            sim.start(start_timeout_s)
        except RuntimeError as exc:
            log.seek(0)
            err = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}; stderr:\n{err}") from None
        running = RunningSim(sim.proc, sim.url)
        yield running
    finally:
        if running is not None and running._control is not None:
            running._control.close()
        sim.stop(grace_s)
        log.close()
