"""Service tokens: a caller mints a short-lived ES256 JWT naming itself (`iss`) and the
service it calls (`aud`); the called service verifies it against that caller's public
keys. google-auth does the signing and the signature check.

Neither side ever puts a token into an exception message or a log line: a refusal
carries a reason written here, not google-auth's message (which quotes the token).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import jwt
from google.auth.crypt import es256

from .keys import key_id, public_pem

LIFETIME = 300  # seconds a token is good for: short, since it is a bearer credential
# Re-mint this long before expiry, so a token never runs out while a call (deadlines
# are seconds) or a clock a little behind the server's is still using it.
REFRESH_BEFORE = 60
CLOCK_SKEW = 30  # seconds of disagreement between two hosts' clocks that are forgiven
# A token claiming to live longer than this is refused even if signed: a leaked one
# must not stay useful for long, whatever the signer chose.
MAX_LIFETIME = 600
ALGORITHM = "ES256"
CACHE_SIZE = 1024  # verified tokens remembered; each caller process holds one at a time

# A caller name is echoed in refusals and logs only when it looks like one.
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
Clock = Callable[[], float]


class Refused(Exception):
    """A token that does not let its bearer in; `reason` is safe to show and to log."""

    def __init__(self, reason: str, *, caller: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.caller = caller


def printable_name(value: object) -> str | None:
    """`value` if it is a plausible service name, else None (never echo arbitrary input)."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else None


class TokenMinter:
    """Mints the caller's token for one audience and reuses it until shortly before it
    expires; `authorization()` is the header value to send."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        *,
        caller: str,
        audience: str,
        lifetime: int = LIFETIME,
        clock: Clock = time.time,
    ) -> None:
        self._signer = es256.ES256Signer(private_key, key_id=key_id(private_key.public_key()))
        self.caller = caller
        self.audience = audience
        self._lifetime = lifetime
        self._clock = clock
        self._header = ""
        self._refresh_at = float("-inf")

    def authorization(self) -> str:
        """`Bearer <token>`, minted anew when the cached one is close to expiry."""
        now = self._clock()
        if now >= self._refresh_at:
            issued = int(now)
            token = jwt.encode(
                self._signer,
                {
                    "iss": self.caller,
                    "sub": self.caller,
                    "aud": self.audience,
                    "iat": issued,
                    "exp": issued + self._lifetime,
                },
            )
            self._header = "Bearer " + token.decode()
            self._refresh_at = issued + self._lifetime - min(REFRESH_BEFORE, self._lifetime / 2)
        return self._header

    def __repr__(self) -> str:  # the cached token stays out of any repr
        return f"TokenMinter(caller={self.caller!r}, audience={self.audience!r})"


class TokenVerifier:
    """Answers which caller a token proves, for tokens addressed to `audience`."""

    def __init__(
        self,
        trusted: Mapping[str, Sequence[ec.EllipticCurvePublicKey]],
        *,
        audience: str,
        clock: Clock = time.time,
    ) -> None:
        # Keyed by key id: google-auth picks the key a token names in its header.
        self._certs = {
            caller: {key_id(key): public_pem(key) for key in keys}
            for caller, keys in trusted.items()
        }
        self.audience = audience
        self._clock = clock
        # Verifying a signature costs far more than the call it guards at delivery's
        # rates; a caller reuses its token for minutes, so remember good ones until expiry.
        self._verified: dict[str, tuple[str, float]] = {}

    def verify(self, token: str) -> str:
        """The caller `token` proves, or `Refused` saying why not."""
        now = self._clock()
        known = self._verified.get(token)
        if known is not None and now <= known[1] + CLOCK_SKEW:
            return known[0]
        header, claims = _unverified(token)
        if header.get("alg") != ALGORITHM:
            raise Refused(f"the token is not signed with {ALGORITHM}")
        caller = printable_name(claims.get("iss"))
        if caller is None or caller not in self._certs:
            raise Refused(f"unknown caller {caller or '(unnamed)'}", caller=caller)
        expires = self._check_claims(claims, caller, now)
        try:
            jwt.decode(
                token,
                certs=self._certs[caller],
                audience=self.audience,
                clock_skew_in_seconds=CLOCK_SKEW,
            )
        except Exception:  # google-auth's messages quote the token; say it in our words
            raise Refused(
                f"the signature does not match a trusted key of {caller}", caller=caller
            ) from None
        self._remember(token, caller, expires, now)
        return caller

    def _check_claims(self, claims: Mapping[str, Any], caller: str, now: float) -> float:
        # Checked before the signature, so a refusal says precisely what was wrong.
        audience = claims.get("aud")
        if audience != self.audience:
            named = printable_name(audience) or "another service"
            raise Refused(f"the token is for {named}, not {self.audience}", caller=caller)
        issued, expires = claims.get("iat"), claims.get("exp")
        if not (_is_number(issued) and _is_number(expires)):
            raise Refused("the token lacks iat or exp", caller=caller)
        if expires - issued > MAX_LIFETIME:
            raise Refused(f"the token lives longer than {MAX_LIFETIME} s", caller=caller)
        if now > expires + CLOCK_SKEW:
            raise Refused("the token has expired", caller=caller)
        if now < issued - CLOCK_SKEW:
            raise Refused("the token is issued in the future (check the clocks)", caller=caller)
        return float(expires)

    def _remember(self, token: str, caller: str, expires: float, now: float) -> None:
        if len(self._verified) >= CACHE_SIZE:
            self._verified = {
                kept: entry
                for kept, entry in self._verified.items()
                if now <= entry[1] + CLOCK_SKEW
            }
            if len(self._verified) >= CACHE_SIZE:
                self._verified.clear()
        self._verified[token] = (caller, expires)


def _unverified(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    try:
        header = jwt.decode_header(token)
        claims = jwt.decode(token, verify=False)
    except Exception:  # anything unparseable; the exception text may quote the token
        raise Refused("the token is malformed") from None
    if not isinstance(header, Mapping) or not isinstance(claims, Mapping):
        raise Refused("the token is malformed")
    return header, claims


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
