"""Verifies the OIDC token Cloud Tasks attaches to each push: Google's signature
(certificates fetched once and cached, never per request), audience, issuer, expiry,
and the service account the queue is configured to use."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from .errors import PushRejected

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
DEFAULT_CERT_TTL = 3600.0
_MAX_AGE = re.compile(r"max-age=(\d+)")

CertFetcher = Callable[[], Awaitable[tuple[dict[str, str], float]]]


async def fetch_google_certs(url: str = GOOGLE_CERTS_URL) -> tuple[dict[str, str], float]:
    """Google's signing certificates ({kid: PEM}) and how long they may be cached."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
        resp.raise_for_status()
        certs = await resp.json()
        match = _MAX_AGE.search(resp.headers.get("Cache-Control", ""))
    return certs, float(match.group(1)) if match else DEFAULT_CERT_TTL


class CertCache:
    """Certificates kept until they expire; one fetch at a time, however many pushes
    arrive together. An unknown key id triggers one early refresh (Google rotates)."""

    def __init__(self, fetch: CertFetcher, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._certs: dict[str, str] = {}
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, kid: str | None = None) -> dict[str, str]:
        fresh = self._clock() < self._expires
        if fresh and (kid is None or kid in self._certs):
            return self._certs
        async with self._lock:
            if self._clock() >= self._expires or (kid is not None and kid not in self._certs):
                try:
                    certs, ttl = await self._fetch()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if self._certs:
                        return self._certs  # keep serving with what we have
                    raise PushRejected(f"cannot fetch signing certificates: {exc}") from None
                self._certs, self._expires = certs, self._clock() + ttl
        return self._certs


class GoogleOidcVerifier:
    def __init__(
        self,
        *,
        audience: str,
        service_account: str,
        certs: CertCache,
        clock_skew_seconds: int = 10,
    ) -> None:
        self.audience = audience
        self.service_account = service_account
        self.certs = certs
        self.clock_skew_seconds = clock_skew_seconds

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or PushRejected saying what was wrong."""
        try:
            header = jwt.decode_header(token)
        except (ValueError, auth_exceptions.GoogleAuthError):
            raise PushRejected("token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise PushRejected("token is not RS256-signed")
        certs = await self.certs.get(kid=header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                certs=certs,
                audience=self.audience,
                clock_skew_in_seconds=self.clock_skew_seconds,
            )
        except (ValueError, auth_exceptions.GoogleAuthError) as exc:
            raise PushRejected(f"token rejected: {_first_line(exc)}") from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise PushRejected("token was not issued by Google")
        if claims.get("email") != self.service_account:
            raise PushRejected("token belongs to another service account")
        if claims.get("email_verified") is not True:
            raise PushRejected("token's e-mail is not verified")
        return claims


def _first_line(exc: Exception) -> str:
    # google-auth messages can quote the token's claims; keep only the reason.
    return str(exc).split(":", 1)[0].splitlines()[0][:120]
