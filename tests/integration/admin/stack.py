"""The admin under test and what a story needs around it: calls, keys, the audit rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select, update

from servicekit import api_keys
from servicekit.grpc_server import RunningServer
from services.admin.metrics import AdminMetrics
from services.routing.db.models import ApiKey, AuditEntry
from services.routing.operations import api_keys as stored_keys
from switchboard.admin.v1 import admin_pb2_grpc
from switchboard.operations.v1 import operations_pb2
from tests.integration.routing.databases import Sessions

SETUP = operations_pb2.Actor(kind="system", id="test-setup")


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Admin:
    """The running admin, and the database behind routing for the story's setup."""

    url: str
    grpc: admin_pb2_grpc.AdminServiceStub
    sessions: Sessions
    http: aiohttp.ClientSession
    routing: RunningServer  # stop it to see admin with routing down
    metrics: AdminMetrics | None = None  # what build() counts calls in

    async def key(
        self, *scopes: str, expired: bool = False, revoked: bool = False, name: str = "test"
    ) -> str:
        """A key made straight in routing's database (as keys_cli makes the first)."""
        new = api_keys.generate()
        async with self.sessions() as session, session.begin():
            await stored_keys.create_key(
                session,
                key_id=new.key_id,
                name=name,
                scopes=list(scopes),
                secret_sha256=new.secret_sha256,
                expires_at=None,
                actor=SETUP,
            )
            if revoked:
                await stored_keys.revoke_key(session, key_id=new.key_id, actor=SETUP)
        if expired:
            # Routing refuses to create a key already expired; time passes instead.
            gone = datetime.now(UTC) - timedelta(minutes=1)
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(ApiKey).where(ApiKey.key_id == new.key_id).values(expires_at=gone)
                )
        return new.token

    async def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        *,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        async with self.http.request(
            method, self.url + path, json=json, data=data, headers=sent
        ) as resp:
            assert resp.content_type == "application/json", await resp.text()
            return Answer(resp.status, await resp.json())

    async def audit_rows(self, *, changes: bool = False, **where: str) -> list[AuditEntry]:
        """admin's rows, one a call (or with `changes`, the rows routing wrote for the
        changes made), oldest first, filtered by column."""
        query = select(AuditEntry)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        async with self.sessions() as session:
            rows = list(await session.scalars(query.order_by(AuditEntry.id)))
        return [r for r in rows if ("via" in (r.details or {})) != changes]

    async def stored_keys(self) -> list[ApiKey]:
        async with self.sessions() as session:
            return list(await session.scalars(select(ApiKey)))


def secret_of(token: str) -> str:
    parsed = api_keys.parse(token)
    assert parsed is not None
    return parsed[1]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
