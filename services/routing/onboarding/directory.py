"""Where a client's email is looked up: the directory table (imported through the
operations API), or a company's own HTTP directory service.

The HTTP contract: GET <url>?email=<address> with the configured auth header; 200 with
{"found": true, "full_name": "...", "external_id": "...", "treatment": false} or
{"found": false}; 404 also means unknown. Anything else (other statuses, a timeout, a
body that is not that JSON) is the service being unavailable: the check is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.db.models import DirectoryUser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    full_name: str
    external_id: str
    treatment: bool


class DirectoryUnavailable(Exception):
    """The directory could not answer now (the reason is safe to log)."""


class Directory(Protocol):
    async def lookup(self, email: str) -> Account | None: ...

    async def close(self) -> None: ...


class TableDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def lookup(self, email: str) -> Account | None:
        async with self.sessions() as session:
            user = await session.scalar(
                select(DirectoryUser).where(
                    DirectoryUser.email == email, DirectoryUser.active.is_(True)
                )
            )
        if user is None:
            return None
        return Account(user.full_name, user.external_id or f"directory:{user.id}", user.treatment)

    async def close(self) -> None:
        return None


class HttpDirectory:
    def __init__(self, url: str, *, timeout: float, auth_header: str = "") -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        name, _, value = auth_header.partition(":")
        self.headers = {name.strip(): value.strip()} if name.strip() and value.strip() else {}
        self._session: aiohttp.ClientSession | None = None

    async def lookup(self, email: str) -> Account | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        try:
            async with self._session.get(self.url, params={"email": email}) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise DirectoryUnavailable(f"directory answered HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise DirectoryUnavailable(f"directory unreachable: {type(error).__name__}") from None
        return _account(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _account(body: object) -> Account | None:
    if not isinstance(body, dict) or not isinstance(body.get("found"), bool):
        raise DirectoryUnavailable("directory answered something other than the contract")
    if not body["found"]:
        return None
    name = body.get("full_name")
    if not isinstance(name, str) or not name.strip():
        raise DirectoryUnavailable("directory found the user but gave no full_name")
    return Account(
        name.strip()[:255], str(body.get("external_id") or "")[:128], body.get("treatment") is True
    )
