"""The first admin key, straight into routing's database.

    python -m services.routing.api.keys_cli create --name NAME --scopes admin[,read…]
                                               [--expires-in-days N]
    python -m services.routing.api.keys_cli revoke KEY_ID
    python -m services.routing.api.keys_cli list [--all]

The very first admin key: made here against routing's database (no admin running yet,
no key to call it with), then every other key through the operations API. The key is
printed once and only its secret's hash is stored. The database URL is routing's own
setting (SWITCHBOARD_ROUTING_DATABASE_URL), or --url; the schema must be migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit import api_keys as key_shape
from servicekit.errors import ServiceError
from services.routing.db.engine import make_engine, session_factory
from services.routing.operations import api_keys
from services.routing.settings import RoutingSettings
from switchboard.operations.v1 import operations_pb2

ACTOR = operations_pb2.Actor(kind="system", id="keys_cli", display_name="keys_cli")
T = TypeVar("T")


async def _in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def _create(url: str, name: str, scopes: list[str], days: int | None) -> str:
    new = key_shape.generate()
    expires = datetime.now(UTC) + timedelta(days=days) if days else None

    async def work(session: AsyncSession) -> None:
        await api_keys.create_key(
            session,
            key_id=new.key_id,
            name=name,
            scopes=scopes,
            secret_sha256=new.secret_sha256,
            expires_at=expires,
            actor=ACTOR,
        )

    asyncio.run(_in_transaction(url, work))
    until = f", expires {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    return (
        f"created key {new.key_id} ({name}; {' '.join(key_shape.check_scopes(scopes))}{until})\n"
        f"{new.token}\n"
        "This is the only time the key is shown: keep it in a secret store."
    )


def _revoke(url: str, key_id: str) -> str:
    async def work(session: AsyncSession) -> datetime | None:
        return (await api_keys.revoke_key(session, key_id=key_id, actor=ACTOR)).revoked_at

    revoked_at = asyncio.run(_in_transaction(url, work))
    return f"revoked key {key_id} (since {revoked_at:%Y-%m-%d %H:%M:%S} UTC)"


def _list(url: str, everything: bool) -> str:
    async def work(session: AsyncSession) -> list[str]:
        keys = await api_keys.list_keys(session, include_inactive=everything)
        return [_line(api_keys.key_view(k)) for k in keys]

    lines = asyncio.run(_in_transaction(url, work))
    return "\n".join(lines) if lines else "no keys"


def _line(key: operations_pb2.ApiKey) -> str:
    def when(field: Literal["created_at", "expires_at", "last_used_at", "revoked_at"]) -> str:
        if not key.HasField(field):
            return "-"
        stamp: Timestamp = getattr(key, field)
        return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")

    return (
        f"{key.key_id}  {key.name!r}  scopes={','.join(key.scopes)}  created={when('created_at')}"
        f"  expires={when('expires_at')}  revoked={when('revoked_at')}"
        f"  last_used={when('last_used_at')}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.api.keys_cli")
    parser.add_argument("--url", help="database URL (default: routing's setting)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated: read,assign,send,admin")
    create.add_argument("--expires-in-days", type=int, default=None)
    commands.add_parser("revoke", help="revoke a key").add_argument("key_id")
    listing = commands.add_parser("list", help="the keys (no secrets)")
    listing.add_argument("--all", action="store_true", help="revoked and expired ones too")
    args = parser.parse_args(argv)
    if args.command == "create" and args.expires_in_days is not None and args.expires_in_days < 1:
        parser.error("--expires-in-days must be at least 1")
    url = args.url or RoutingSettings().database_url.get_secret_value()
    try:
        if args.command == "create":
            scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
            print(_create(url, args.name, scopes, args.expires_in_days))
        elif args.command == "revoke":
            print(_revoke(url, args.key_id))
        else:
            print(_list(url, args.all))
    except ServiceError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except DBAPIError as error:
        # The driver's message, not the URL (it may carry a password).
        print(f"error: the database refused: {error.orig}", file=sys.stderr)
        print(
            "(is it reachable and migrated?"
            " python -m services.routing.api.migrations_cli --url URL upgrade)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
