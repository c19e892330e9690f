"""public/login: verify the RS256/384/512 JWT against the public key registered for its ``kid``.

Checks, as Thalex does (THALEX_API.md section 2): the header names a known key id, the signature
verifies, |iat - now| <= 30 s, and iat is strictly later than any iat used before on that key.
With no key registered at all the exchange runs permissive: any key id is accepted without a
signature check (iat rules still apply), which is what a throwaway local test setup wants.
Every failure is error 19 (community-sourced code) with a message saying which check failed.
"""
from __future__ import annotations

import time

import jwt

from .accounts import account_number_for
from .errors import ApiError, AUTH_FAILED

ALGORITHMS = ["RS256", "RS384", "RS512"]
MAX_SKEW_S = 30.0


class Authenticator:
    def __init__(self, public_keys: dict[str, bytes] | None = None, clock=time.time):
        self.public_keys = dict(public_keys or {})   # kid -> PEM bytes
        self.permissive = not self.public_keys
        self.last_iat: dict[str, float] = {}
        self.clock = clock

    def register(self, kid: str, public_pem: bytes) -> None:
        """Accept one more key; the first registration ends permissive mode."""
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        try:
            load_pem_public_key(public_pem)
        except ValueError as e:
            raise ApiError(6, f"public key of {kid!r} is not a PEM public key: {e}") from None
        self.public_keys[kid] = public_pem
        self.permissive = False

    def login(self, token) -> tuple[str, str]:
        """(key id, account number) for a valid token; raises ApiError(19) otherwise."""
        if not isinstance(token, str) or not token:
            raise ApiError(AUTH_FAILED, f"token={token!r}: expected a JWT string")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise ApiError(AUTH_FAILED, f"token is not a JWT: {e}") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ApiError(AUTH_FAILED, "token header has no 'kid' (the API key id)")
        if header.get("alg") not in ALGORITHMS:
            raise ApiError(AUTH_FAILED, f"token alg={header.get('alg')!r}: expected one of "
                                        f"{', '.join(ALGORITHMS)}")
        try:
            if self.permissive:
                claims = jwt.decode(token, options={"verify_signature": False})
            else:
                key = self.public_keys.get(kid)
                if key is None:
                    raise ApiError(AUTH_FAILED, f"kid={kid!r}: unknown API key id")
                claims = jwt.decode(token, key, algorithms=ALGORITHMS,
                                    options={"verify_exp": False, "verify_iat": False})
        except jwt.PyJWTError as e:
            raise ApiError(AUTH_FAILED, f"kid={kid!r}: token rejected: {e}") from None
        iat = claims.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, (int, float)):
            raise ApiError(AUTH_FAILED, f"iat={iat!r}: expected a Unix time number")
        now = self.clock()
        if abs(iat - now) > MAX_SKEW_S:
            raise ApiError(AUTH_FAILED, f"iat={iat}: more than {MAX_SKEW_S:.0f} s away from "
                                        f"the server time {now:.3f}")
        last = self.last_iat.get(kid)
        if last is not None and iat <= last:
            raise ApiError(AUTH_FAILED, f"iat={iat}: not later than the previous token's iat={last}"
                                        f" on key {kid!r} (every login needs a fresh token)")
        self.last_iat[kid] = iat
        return kid, account_number_for(kid)
