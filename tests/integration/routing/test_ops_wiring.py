"""OperationsService is part of routing as wiring builds it, and the first admin key
comes from the command line."""

from __future__ import annotations

import hashlib

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from servicekit.api_keys import parse
from services.routing.api import keys_cli
from services.routing.api.operations_servicer import OperationsServicer
from services.routing.db.urls import sync_url
from services.routing.wiring import OPERATIONS_SERVICE_NAME
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from tests.integration.routing.databases import render
from tests.integration.routing.stack import Ops


async def test_the_health_check_knows_the_operations_service(ops: Ops) -> None:
    health = health_pb2_grpc.HealthStub(ops.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=OPERATIONS_SERVICE_NAME))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert OPERATIONS_SERVICE_NAME == "switchboard.operations.v1.OperationsService"


def test_the_servicer_implements_every_rpc_itself() -> None:
    """One servicer class: every RPC of OperationsService is its own method, none left
    to the generated UNIMPLEMENTED ones."""
    service = operations_pb2.DESCRIPTOR.services_by_name["OperationsService"]
    assert OperationsServicer.__bases__ == (operations_pb2_grpc.OperationsServiceServicer,)
    assert {m.name for m in service.methods} <= set(vars(OperationsServicer))


def _stored(url: str) -> list[tuple]:
    engine = create_engine(render(sync_url(url)), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT key_id, name, scopes, secret_sha256, expires_at, revoked_at"
                    " FROM api_keys"
                )
            ).all()
    finally:
        engine.dispose()


def test_the_first_admin_key_from_the_command_line(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_DATABASE_URL", database_url)
    argv = ["create", "--name", "First admin", "--scopes", "admin,read", "--expires-in-days", "7"]
    assert keys_cli.main(argv) == 0
    printed = capsys.readouterr().out
    token = next(line for line in printed.splitlines() if line.startswith("sbk_"))
    key_id, secret = parse(token)
    ((stored_id, name, scopes, digest, expires, revoked),) = _stored(database_url)
    assert (stored_id, name, scopes, revoked) == (key_id, "First admin", "read admin", None)
    assert digest == hashlib.sha256(secret.encode()).hexdigest() and expires is not None
    assert digest not in printed

    assert keys_cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "First admin" in listing and secret not in listing

    assert keys_cli.main(["revoke", key_id]) == 0
    assert f"revoked key {key_id}" in capsys.readouterr().out
    assert _stored(database_url)[0][5] is not None
    assert keys_cli.main(["list"]) == 0
    assert capsys.readouterr().out.strip() == "no keys"


def test_bad_command_lines_say_what_is_wrong(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--url", database_url]
    assert keys_cli.main([*url, "create", "--name", "x", "--scopes", "root"]) == 1
    assert "unknown scope(s): root" in capsys.readouterr().err
    assert keys_cli.main([*url, "revoke", "0123456789ab"]) == 1
    assert "no API key with id 0123456789ab" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        keys_cli.main([*url, "create", "--name", "x", "--scopes", "read", "--expires-in-days", "0"])
    assert _stored(database_url) == []
