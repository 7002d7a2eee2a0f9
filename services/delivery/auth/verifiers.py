"""The two ways a push proves where it comes from, behind one async verify()."""

from __future__ import annotations

from typing import Any, Protocol

from servicekit import push_tokens

from .errors import PushRejected


class PushVerifier(Protocol):
    async def verify(self, token: str) -> dict[str, Any]: ...


class LocalDispatcherVerifier:
    """Accepts tokens signed with the secret the local dispatcher shares with us."""

    def __init__(self, secret: bytes, *, audience: str = "delivery") -> None:
        self.secret = secret
        self.audience = audience

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            return push_tokens.verify(self.secret, token, audience=self.audience)
        except push_tokens.TokenRejected as rejected:
            raise PushRejected(rejected.reason) from None
