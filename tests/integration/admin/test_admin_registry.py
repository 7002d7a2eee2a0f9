"""Teams, staff groups, staff members and the user directory, through REST (and gRPC)."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import select

from services.routing.db.enums import BotRole
from services.routing.db.models import Bot, DirectoryUser
from switchboard.operations.v1 import operations_pb2
from tests.integration.admin.stack import Admin, Answer

CS_BOT, CR_BOT = 7_100_000_002, 7_100_000_003


@pytest.fixture
async def boss(admin: Admin) -> str:
    """An admin key, with the CS and CR bots registered (groups need their bot)."""
    async with admin.sessions() as session, session.begin():
        session.add_all(
            [
                Bot(id=CS_BOT, role=BotRole.CS, username="cs_bot"),
                Bot(id=CR_BOT, role=BotRole.CR, username="cr_bot"),
            ]
        )
    return await admin.key("admin")


async def test_teams_are_created_renamed_and_deactivated(admin: Admin, boss: str) -> None:
    made = await admin.call("POST", "/v1/teams", boss, json={"name": "CR North"})
    assert (made.status, made.body["name"], made.body["active"]) == (201, "CR North", True)
    team_id = made.body["id"]
    twice = await admin.call("POST", "/v1/teams", boss, json={"name": "CR North"})
    assert twice.status == 409 and "CR North" in twice.body["error"]
    renamed = await admin.call("PUT", f"/v1/teams/{team_id}", boss, json={"name": "CR Nord"})
    assert (renamed.status, renamed.body["name"]) == (200, "CR Nord")
    gone = await admin.call("POST", f"/v1/teams/{team_id}/deactivate", boss)
    assert gone == Answer(200, {"changed": True})
    again = await admin.call("POST", f"/v1/teams/{team_id}/deactivate", boss)
    assert again == Answer(200, {"changed": False})
    assert (await admin.call("GET", "/v1/teams", boss)).body == {"teams": []}
    everything = await admin.call("GET", "/v1/teams?include_inactive=true", boss)
    assert [(t["name"], t["active"]) for t in everything.body["teams"]] == [("CR Nord", False)]
    missing = await admin.call("POST", "/v1/teams/999/deactivate", boss)
    assert missing.status == 404
    unnamed = await admin.call("POST", "/v1/teams", boss, json={})
    assert unnamed == Answer(400, {"error": "name: field required"})
    rows = [
        (r.action, r.target_id or "", r.result)
        for r in await admin.audit_rows()
        if r.action.startswith("teams.")
    ]
    assert rows == [
        ("teams.put", str(team_id), "ok"),
        ("teams.put", "", "conflict"),
        ("teams.put", str(team_id), "ok"),
        ("teams.deactivate", str(team_id), "ok"),
        ("teams.deactivate", str(team_id), "ok"),
        ("teams.list", "", "ok"),
        ("teams.list", "", "ok"),
        ("teams.deactivate", "999", "not_found"),
        ("teams.put", "", "invalid"),
    ]


async def test_groups_are_registered_and_updated(admin: Admin, boss: str) -> None:
    await admin.call("POST", "/v1/teams", boss, json={"name": "CR North"})
    cs = {"chat_id": -1001, "role": "cs", "title": "CS", "bot_id": CS_BOT, "intake_thread_id": 5}
    made = await admin.call("POST", "/v1/groups", boss, json=cs)
    assert made.status == 201, made.body
    assert (made.body["chat_id"], made.body["intake_thread_id"]) == (-1001, 5)
    cr = {"role": "cr", "title": "CR North", "bot_id": CR_BOT, "team": "CR North"}
    put = await admin.call("PUT", "/v1/groups/-1002", boss, json=cr)
    assert (put.status, put.body["team"]) == (200, "CR North")
    no_team = await admin.call("PUT", "/v1/groups/-1002", boss, json={**cr, "team": "Nope"})
    assert no_team.status == 404 and "Nope" in no_team.body["error"]
    wrong_bot = await admin.call("PUT", "/v1/groups/-1003", boss, json={**cr, "bot_id": CS_BOT})
    assert wrong_bot.status == 400 and wrong_bot.body["error"].startswith("group.bot_id: ")
    body_id = await admin.call("PUT", "/v1/groups/-1002", boss, json={**cr, "chat_id": -5})
    assert body_id == Answer(400, {"error": "chat_id: extra inputs are not permitted"})
    listed = await admin.call("GET", "/v1/groups", boss)
    assert sorted(g["chat_id"] for g in listed.body["groups"]) == [-1002, -1001]
    assert (await admin.call("POST", "/v1/groups/-1001/deactivate", boss)).body == {"changed": True}


async def test_staff_are_added_updated_and_deactivated(admin: Admin, boss: str) -> None:
    anna = {"telegram_user_id": 6001, "display_name": "Anna", "role_label": "CS"}
    made = await admin.call("POST", "/v1/staff", boss, json=anna)
    assert (made.status, made.body["display_name"], made.body["active"]) == (201, "Anna", True)
    put = await admin.call(
        "PUT", "/v1/staff/6001", boss, json={"display_name": "Anna K.", "role_label": "CS lead"}
    )
    assert (put.status, put.body["display_name"], put.body["role_label"]) == (
        200,
        "Anna K.",
        "CS lead",
    )
    nameless = await admin.call("POST", "/v1/staff", boss, json={"telegram_user_id": 6002})
    assert nameless.status == 400
    assert nameless.body["error"].startswith("display_name: field required")
    gone = await admin.call("POST", "/v1/staff/6001/deactivate", boss)
    assert gone.body == {"changed": True}
    listed = await admin.call("GET", "/v1/staff?include_inactive=1", boss)
    assert [(s["telegram_user_id"], s["active"]) for s in listed.body["staff"]] == [(6001, False)]
    [row] = await admin.audit_rows(action="staff.deactivate")
    assert (row.target_kind, row.target_id, row.result) == ("staff", "6001", "ok")


async def _directory(admin: Admin) -> dict[str, DirectoryUser]:
    async with admin.sessions() as session:
        return {u.email: u for u in await session.scalars(select(DirectoryUser))}


async def test_the_directory_imports_json(admin: Admin, boss: str) -> None:
    entries = [
        {"email": "ann@example.com", "full_name": "Ann", "external_id": "u-1", "treatment": True},
        {"email": "bob@example.com", "full_name": "Bob", "active": False},
    ]
    done = await admin.call("POST", "/v1/directory/import", boss, json={"entries": entries})
    assert done == Answer(200, {"created": 2, "updated": 0, "rejected": []})
    again = await admin.call("POST", "/v1/directory/import", boss, json={"entries": entries[:1]})
    assert again.body == {"created": 0, "updated": 1, "rejected": []}
    users = await _directory(admin)
    assert (users["ann@example.com"].treatment, users["bob@example.com"].active) == (True, False)
    bad = await admin.call(
        "POST", "/v1/directory/import", boss, json={"entries": [{"email": "x@example.com"}]}
    )
    assert bad == Answer(400, {"error": "entries.0.full_name: field required"})


async def test_the_directory_imports_csv_and_reports_bad_lines(admin: Admin, boss: str) -> None:
    csv = (
        "email,full_name,external_id,treatment,active\n"
        "ann@example.com,Ann Client,u-1,yes,1\n"
        "not-an-email,Bob,u-2,no,1\n"
        "cy@example.com,Cy,u-3,maybe,1\n"
        "dee@example.com,Dee,u-4,no,yes\n"
        "ann@example.com,Ann Again,u-1,no,1\n"
    )
    done = await admin.call(
        "POST",
        "/v1/directory/import",
        boss,
        data=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert done.status == 200, done.body
    assert (done.body["created"], done.body["updated"]) == (2, 0)
    assert [r["line"] for r in done.body["rejected"]] == [3, 4, 6]
    assert done.body["rejected"][0]["reason"] == "email: not an email address"
    assert "repeats" in done.body["rejected"][2]["reason"], "routing's refusal, by line"
    assert set(await _directory(admin)) == {"ann@example.com", "dee@example.com"}
    headless = await admin.call(
        "POST",
        "/v1/directory/import",
        boss,
        data=b"ann@example.com\n",
        headers={"Content-Type": "text/csv"},
    )
    assert headless.status == 400 and headless.body["error"].startswith("csv: unknown column")
    [*_, last] = await admin.audit_rows(action="directory.import")
    assert last.result == "invalid"


async def test_grpc_registry_calls(admin: Admin, boss: str) -> None:
    metadata = [("authorization", f"Bearer {boss}")]
    team = await admin.grpc.PutTeam(
        operations_pb2.PutTeamRequest(name="CR East"), metadata=metadata
    )
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await admin.grpc.PutTeam(operations_pb2.PutTeamRequest(name="CR East"), metadata=metadata)
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
    done = await admin.grpc.Deactivate(
        operations_pb2.DeactivateRequest(kind="team", id=team.id), metadata=metadata
    )
    assert done.changed
    with pytest.raises(grpc.aio.AioRpcError) as odd:
        await admin.grpc.Deactivate(
            operations_pb2.DeactivateRequest(kind="planet", id=1), metadata=metadata
        )
    assert odd.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    imported = await admin.grpc.ImportDirectory(
        operations_pb2.ImportDirectoryRequest(
            entries=[
                operations_pb2.DirectoryEntry(
                    email="eve@example.com", full_name="Eve", active=True
                ),
                operations_pb2.DirectoryEntry(email="nope", full_name="Nope"),
            ]
        ),
        metadata=metadata,
    )
    assert (imported.created, [r.index for r in imported.rejected]) == (1, [2])
    member = operations_pb2.StaffMember(telegram_user_id=6003, display_name="Ravi", role_label="CR")
    await admin.grpc.PutStaff(operations_pb2.PutStaffRequest(member=member), metadata=metadata)
    staff = await admin.grpc.ListStaff(operations_pb2.ListRequest(), metadata=metadata)
    assert [m.display_name for m in staff.staff] == ["Ravi"]
    group = operations_pb2.Group(chat_id=-1009, role="cs", title="CS", bot_id=CS_BOT)
    await admin.grpc.PutGroup(operations_pb2.PutGroupRequest(group=group), metadata=metadata)
    groups = await admin.grpc.ListGroups(operations_pb2.ListRequest(), metadata=metadata)
    assert [g.chat_id for g in groups.groups] == [-1009]
    ours = ("teams", "registry", "directory")
    actions = [
        (r.action, r.target_kind or "", r.result)
        for r in await admin.audit_rows()
        if r.action.split(".")[0] in ours
    ]
    assert actions == [
        ("teams.put", "", "ok"),
        ("teams.put", "", "conflict"),
        ("teams.deactivate", "team", "ok"),
        ("registry.deactivate", "planet", "invalid"),
        ("directory.import", "", "ok"),
    ]


async def test_a_groups_pool_of_bots_is_set_and_shown_over_rest(admin: Admin, boss: str) -> None:
    async with admin.sessions() as session, session.begin():
        session.add(Bot(id=CS_BOT + 10, role=BotRole.CS, username="cs_bot_two"))
    cs = {"chat_id": -1001, "role": "cs", "title": "CS", "bot_id": CS_BOT}
    assert (await admin.call("POST", "/v1/groups", boss, json=cs)).status == 201
    put = await admin.call("PUT", "/v1/groups/-1001/bots", boss, json={"bots": ["@cs_bot_two"]})
    assert put.status == 200, put.body
    shown = await admin.call("GET", "/v1/groups/-1001/bots", boss)
    assert [(b["bot_id"], b.get("own", False)) for b in shown.body["bots"]] == [
        (CS_BOT, True),
        (CS_BOT + 10, False),
    ]
    wrong = await admin.call("PUT", "/v1/groups/-1001/bots", boss, json={"bots": [str(CR_BOT)]})
    assert wrong.status == 400 and wrong.body["error"].startswith("bots[0]: ")
    reader = await admin.key("read")
    refused = await admin.call("PUT", "/v1/groups/-1001/bots", reader, json={"bots": []})
    assert refused.status == 403
    assert (await admin.call("GET", "/v1/groups/-1001/bots", reader)).status == 200
    rows = [
        (r.action, r.target_id, r.result)
        for r in await admin.audit_rows()
        if r.action.startswith("groups.") and "bots" in r.action
    ]
    assert rows == [
        ("groups.set_bots", "-1001", "ok"),
        ("groups.get_bots", "-1001", "ok"),
        ("groups.set_bots", "-1001", "invalid"),
        ("groups.set_bots", "-1001", "forbidden"),
        ("groups.get_bots", "-1001", "ok"),
    ]
