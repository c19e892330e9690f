"""Venue test helpers: an RSA key pair, and a scripted websocket server on 127.0.0.1:0."""
from __future__ import annotations

import contextlib
import os
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.sync.server import serve


@pytest.fixture(scope="session")
def rsa_key():
    """(private PEM str, public PEM bytes) of one RSA-2048 key for the whole session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.fixture
def key_file(tmp_path, rsa_key):
    """A private key file with mode 0600."""
    path = tmp_path / "K1.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(rsa_key[0])
    return path


@contextlib.contextmanager
def scripted_server(script):
    """Serve ``script(connection)`` for every connection; yields the ws:// URL.

    ``connection`` is a websockets.sync ServerConnection: ``recv()``, ``send(str)``. Failures
    inside the script are collected and re-raised when the block ends, so a broken script
    cannot pass silently.
    """
    errors: list[BaseException] = []

    def handler(connection):
        try:
            script(connection)
        except Exception as exc:  # noqa: BLE001 - reported below
            from websockets.exceptions import ConnectionClosed
            if not isinstance(exc, ConnectionClosed):
                errors.append(exc)

    server = serve(handler, "127.0.0.1", 0, ping_interval=None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/ws/api/v2"
    finally:
        server.shutdown()
        thread.join(timeout=5)
    if errors:
        raise errors[0]
