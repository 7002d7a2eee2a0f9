"""Importing the user directory: upsert by email, bad rows reported while good ones go in."""

from __future__ import annotations

import grpc
from sqlalchemy import select

from services.routing.db.models import DirectoryUser
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import OPERATOR, Ops, rpc_error


def _entry(email: str, name: str = "Someone", **more) -> pb.DirectoryEntry:
    return pb.DirectoryEntry(email=email, full_name=name, active=True, **more)


async def _directory(ops: Ops) -> dict[str, tuple]:
    async with ops.sessions() as session:
        users = await session.scalars(select(DirectoryUser))
        return {u.email: (u.full_name, u.external_id, u.treatment, u.active) for u in users}


async def test_good_rows_go_in_and_bad_ones_are_reported_by_position(ops: Ops) -> None:
    entries = [
        _entry("  Ann@Example.COM ", "Ann Smith", external_id="u-1", treatment=True),
        _entry("not-an-email", "Nobody"),
        _entry("boris@example.org", "   "),
        _entry("chen@example", "Chen"),  # no top-level domain
        _entry("dana@exa mple.com", "Dana"),
        _entry("eve@example.net", "Eve"),
        _entry("ANN@example.com", "Ann again"),  # the same address as row 1
        _entry("", "Empty"),
        _entry("a..b@example.com", "Dots"),
        _entry("fay+support@sub.example.co.uk", "Fay", external_id="x" * 129),
        _entry("gus+support@sub.example.co.uk", "Gus"),
    ]
    done = await ops.stub.ImportDirectory(
        pb.ImportDirectoryRequest(entries=entries, actor=OPERATOR)
    )
    assert (done.created, done.updated) == (3, 0)
    reasons = {r.index: r.reason for r in done.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 7, 8, 9, 10]
    assert "not a valid address" in reasons[2] and "not-an-email" in reasons[2]
    assert "full_name is required" in reasons[3]
    assert "repeats entry 1" in reasons[7]
    assert "email is required" in reasons[8]
    assert "external_id is too long" in reasons[10]
    assert await _directory(ops) == {
        "ann@example.com": ("Ann Smith", "u-1", True, True),
        "eve@example.net": ("Eve", None, False, True),
        "gus+support@sub.example.co.uk": ("Gus", None, False, True),
    }


async def test_a_second_import_updates_by_email(ops: Ops) -> None:
    first = [_entry("ann@example.com", "Ann"), _entry("eve@example.net", "Eve")]
    await ops.stub.ImportDirectory(pb.ImportDirectoryRequest(entries=first, actor=OPERATOR))
    second = [
        pb.DirectoryEntry(email="ANN@example.com", full_name="Ann Smith", external_id="u-1"),
        _entry("zed@example.com", "Zed"),
    ]
    done = await ops.stub.ImportDirectory(pb.ImportDirectoryRequest(entries=second, actor=OPERATOR))
    assert (done.created, done.updated, list(done.rejected)) == (1, 1, [])
    directory = await _directory(ops)
    assert directory["ann@example.com"] == ("Ann Smith", "u-1", False, False)  # now inactive
    assert set(directory) == {"ann@example.com", "eve@example.net", "zed@example.com"}
    (entry,) = (
        await ops.stub.ListAudit(pb.ListAuditRequest(action="directory.import", limit=1))
    ).entries
    assert entry.actor.id == OPERATOR.id and '"created": 1' in entry.details_json
    assert "ann@" not in entry.details_json  # counts, not people


async def test_an_import_needs_an_actor_and_nothing_goes_in_without_one(ops: Ops) -> None:
    error = await rpc_error(
        ops.stub.ImportDirectory(pb.ImportDirectoryRequest(entries=[_entry("a@example.com")]))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "actor" in error.details()
    assert await _directory(ops) == {}
