"""Tokens the local dispatcher signs for its pushes to delivery (the embedded mode has
no Google to vouch for it): HMAC-SHA256 over a small claim set, with an expiry. Shared
because routing signs and delivery verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

ISSUER = "switchboard-local-dispatcher"


class TokenRejected(Exception):
    """The token is not acceptable; the reason never quotes the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(
    secret: bytes, *, audience: str, ttl_seconds: float = 300.0, now: float | None = None
) -> str:
    issued = time.time() if now is None else now
    claims = {"iss": ISSUER, "aud": audience, "iat": int(issued), "exp": int(issued + ttl_seconds)}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(secret: bytes, token: str, *, audience: str, now: float | None = None) -> dict[str, Any]:
    payload, _, mac = token.partition(".")
    if not payload or not mac:
        raise TokenRejected("token is not a local dispatcher token")
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
        claims = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        raise TokenRejected("token is malformed") from None
    # Constant-time comparison: the token's validity must not leak through timing.
    if not hmac.compare_digest(expected, given):
        raise TokenRejected("token signature does not match")
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        raise TokenRejected("token has the wrong issuer")
    if claims.get("aud") != audience:
        raise TokenRejected("token is for another audience")
    if not isinstance(claims.get("exp"), int) or claims["exp"] < (
        time.time() if now is None else now
    ):
        raise TokenRejected("token has expired")
    return claims
