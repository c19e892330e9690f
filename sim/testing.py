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


def make_key_pair(tmpdir) -> tuple[str, Path, Path]:
    """(key id, private PEM path, public PEM path) of a fresh RSA-2048 key in ``tmpdir``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "K" + uuid.uuid4().hex[:9].upper()
    private = Path(tmpdir) / f"{kid}.pem"
    public = Path(tmpdir) / f"{kid}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    os.chmod(private, 0o600)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return kid, private, public


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


def _stop(proc: subprocess.Popen, grace_s: float) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_sim(api_keys: dict | None = None, start_timeout_s: float = 20.0, grace_s: float = 5.0,
                **opts):
    """Start ``python -m sim --port 0`` (extra CLI options as keyword arguments, e.g.
    ``seed=3, tick_interval=0.05``; ``api_keys`` maps key id -> public PEM path), yield a
    RunningSim, stop it by pid (SIGTERM, then SIGKILL after ``grace_s``)."""
    args = [sys.executable, "-m", "sim", "--port", "0"]
    for kid, path in (api_keys or {}).items():
        args += ["--api-key", f"{kid}={path}"]
    for name, value in opts.items():
        args += ["--" + name.replace("_", "-"), str(value)]
    # stderr goes to a file, not a pipe: an unread pipe would fill up and block the exchange.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    running = None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], start_timeout_s)
        line = proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ws://"):
            _stop(proc, grace_s)
            log.seek(0)
            err = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"python -m sim printed {line!r} instead of its URL within "
                               f"{start_timeout_s} s (exit code {proc.returncode}); stderr:\n{err}")
        running = RunningSim(proc, line)
        yield running
    finally:
        if running is not None and running._control is not None:
            running._control.close()
        _stop(proc, grace_s)
        proc.stdout.close()
        log.close()
