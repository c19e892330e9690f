"""Paper trading: a throwaway RSA key and the local exchange (sim/) as a child process.

The key pair lives in the run directory (private key mode 0600) and is registered with the
embedded exchange by key id, so the gateway logs in exactly as it would on Thalex.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import uuid
from pathlib import Path

log = logging.getLogger("paper")


def make_throwaway_key(directory: Path) -> tuple[str, Path, Path]:
    """(key id, private key path, public key path) of a fresh RSA-2048 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "K" + uuid.uuid4().hex[:9].upper()
    private = directory / f"{kid}.pem"
    public = directory / f"{kid}.pub.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return kid, private, public


class EmbeddedExchange:
    """``python -m sim`` on 127.0.0.1 with a free port; ``url`` once started."""

    def __init__(self, run_dir: Path, kid: str, public_key: Path, extra_args: list[str] | None = None):
        self.run_dir, self.kid, self.public_key = run_dir, kid, public_key
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self, timeout_s: float = 20.0) -> str:
        log_file = open(self.run_dir / "logs" / "exchange.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "--host", "127.0.0.1", "--port", "0",
             "--api-key", f"{self.kid}={self.public_key}", *self.extra_args],
            stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ws://"):
            self.stop()
            raise RuntimeError(f"local exchange did not print its URL within {timeout_s}s "
                               f"(got {line!r}); see {self.run_dir}/logs/exchange.log")
        self.url = line
        return line

    def stop(self, grace_s: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
