"""The Thalex login token: an RS512 JWT whose only claim is a fresh ``iat``.

Thalex refuses a token whose ``iat`` is not strictly later than every token used before on the
same key, and one more than 30 s away from its clock (THALEX_API.md section 2). ``make_token``
therefore stamps ``time.time()`` but never repeats or goes back within this process, even if two
logins land in the same clock tick or the wall clock steps backwards a little.

Key material is never logged, never put in an exception message and never kept in a global.
"""
from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import jwt

ALGORITHM = "RS512"
# Smallest step between two iat values: 1 us is far above the float resolution of a Unix time
# (about 0.24 us near 2**31 s) and still far below the server's 30 s tolerance.
IAT_STEP_S = 1e-6

_iat_lock = threading.Lock()
_last_iat = 0.0


class KeyFileError(PermissionError):
    """A private key file that must not be used (others can read it, or it is missing)."""


def next_iat() -> float:
    """Unix seconds (float) for a new token, strictly greater than any earlier value here."""
    global _last_iat
    with _iat_lock:
        iat = time.time()
        if iat <= _last_iat:
            iat = _last_iat + IAT_STEP_S
        _last_iat = iat
        return iat


def make_token(key_id: str, private_key_pem: str | bytes) -> str:
    """A signed RS512 JWT with header ``kid=key_id`` and claim ``iat`` (float Unix seconds)."""
    if not key_id:
        raise ValueError("key_id is empty: expected the Thalex API key name (e.g. K123456789)")
    return jwt.encode({"iat": next_iat()}, private_key_pem, algorithm=ALGORITHM,
                      headers={"kid": key_id})


def load_private_key(path: str | os.PathLike) -> str:
    """The PEM text of the RSA private key at ``path``.

    Refuses a file that group or others may read, write or execute (mode & 0o077 != 0), like
    ssh does, so a key left world-readable is never used. The error names the path and the mode,
    never the content.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KeyFileError(f"private key file {p}: does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"private key file {p}: not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyFileError(f"private key file {p} has mode {mode:04o}: group/others may access it; "
                           f"expected 0600 or stricter (chmod 600 {p})")
    text = p.read_text()
    if "PRIVATE KEY" not in text:
        raise KeyFileError(f"private key file {p}: no PEM private key found")
    return text
