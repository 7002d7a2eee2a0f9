"""The one way a push is refused."""

from __future__ import annotations


class PushRejected(Exception):
    """The push carries no acceptable credential; `reason` is safe to log (it never
    contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise PushRejected("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PushRejected("Authorization is not a bearer token")
    return token.strip()
