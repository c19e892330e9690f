"""RSA API keys for the local exchange: paper trading makes a throwaway pair, tests make their own.

The private key is written with mode 0600 from the first byte (``O_EXCL``), so the gateway's
refusal of key files others can read (venue/token.py) never trips on a key we made ourselves.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path


def make_key_pair(directory) -> tuple[str, Path, Path]:
    """(key id, private PEM path, public PEM path) of a fresh RSA-2048 key in ``directory``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory = Path(directory)
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
