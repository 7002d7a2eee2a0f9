"""The registry through the operations API: teams, staff groups and staff members are
created, updated, listed and deactivated, each change audited with its actor."""

from __future__ import annotations

import grpc
import pytest

from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import (
    CLIENT_BOT,
    CR_BOT,
    CS_BOT,
    OPERATOR,
    TREATMENT_BOT,
    Ops,
    add_bots,
    rpc_error,
)

CS_GROUP, CR_GROUP, CR_GROUP_2 = -1_003_000_000_001, -1_003_000_000_002, -1_003_000_000_003


async def _team(ops: Ops, name: str, team_id: int = 0) -> pb.Team:
    return await ops.stub.PutTeam(pb.PutTeamRequest(id=team_id, name=name, actor=OPERATOR))


async def _audit(ops: Ops, **request) -> list[tuple[str, str, str]]:
    found = await ops.stub.ListAudit(pb.ListAuditRequest(**request))
    return [(e.action, e.target_kind, e.target_id) for e in found.entries]


async def test_teams_are_created_renamed_deactivated_and_reactivated(ops: Ops) -> None:
    alpha = await _team(ops, "  Alpha  ")
    assert (alpha.name, alpha.active) == ("Alpha", True) and alpha.id > 0
    beta = await _team(ops, "Beta")
    renamed = await _team(ops, "Alpha One", alpha.id)
    assert (renamed.id, renamed.name) == (alpha.id, "Alpha One")

    deactivate = pb.DeactivateRequest(kind="team", id=beta.id, actor=OPERATOR)
    assert (await ops.stub.Deactivate(deactivate)).changed is True
    assert (await ops.stub.Deactivate(deactivate)).changed is False
    listed = await ops.stub.ListTeams(pb.ListRequest())
    assert [t.name for t in listed.teams] == ["Alpha One"]
    everything = await ops.stub.ListTeams(pb.ListRequest(include_inactive=True))
    assert [(t.name, t.active) for t in everything.teams] == [("Alpha One", True), ("Beta", False)]

    again = await _team(ops, "Beta", beta.id)
    assert again.active is True
    assert await _audit(ops, target_kind="team", target_id=str(beta.id)) == [
        ("team.update", "team", str(beta.id)),
        ("team.deactivate", "team", str(beta.id)),
        ("team.deactivate", "team", str(beta.id)),
        ("team.create", "team", str(beta.id)),
    ]
    (entry, *_) = (await ops.stub.ListAudit(pb.ListAuditRequest(action="team.create"))).entries
    assert entry.actor == OPERATOR and entry.result == "ok"


async def test_team_names_are_unique_and_checked(ops: Ops) -> None:
    alpha = await _team(ops, "Alpha")
    beta = await _team(ops, "Beta")
    error = await rpc_error(_team(ops, "Alpha"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS and "Alpha" in error.details()
    error = await rpc_error(_team(ops, "Alpha", beta.id))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    error = await rpc_error(_team(ops, "Gamma", alpha.id + beta.id + 100))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    refused = [
        ("", "name is required"),
        ("   ", "name is required"),
        ("x" * 65, "name is too long"),
        ("two\nlines", "name must be one line"),
    ]
    for name, words in refused:
        error = await rpc_error(_team(ops, name))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and words in error.details()


@pytest.mark.parametrize(
    ("actor", "words"),
    [
        (pb.Actor(), "actor.kind"),
        (pb.Actor(kind="wizard", id="x"), "actor.kind"),
        (pb.Actor(kind="api_key"), "actor.id"),
    ],
)
async def test_a_change_names_its_actor(ops: Ops, actor: pb.Actor, words: str) -> None:
    error = await rpc_error(ops.stub.PutTeam(pb.PutTeamRequest(name="Alpha", actor=actor)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and words in error.details()
    assert (await ops.stub.ListTeams(pb.ListRequest(include_inactive=True))).teams == []


def _group(chat_id: int, role: str, bot_id: int, team: str = "", **more) -> pb.PutGroupRequest:
    more.setdefault("title", f"{role} group")
    group = pb.Group(chat_id=chat_id, role=role, bot_id=bot_id, team=team, **more)
    return pb.PutGroupRequest(group=group, actor=OPERATOR)


async def test_groups_are_upserted_by_chat_id(ops: Ops) -> None:
    await add_bots(ops.sessions)
    await _team(ops, "Alpha")
    cs = await ops.stub.PutGroup(_group(CS_GROUP, "cs", CS_BOT, intake_thread_id=5))
    assert (cs.chat_id, cs.role, cs.bot_id, cs.intake_thread_id, cs.active) == (
        CS_GROUP,
        "cs",
        CS_BOT,
        5,
        True,
    )
    cr = await ops.stub.PutGroup(_group(CR_GROUP, "cr", CR_BOT, "Alpha"))
    assert (cr.team, cr.title) == ("Alpha", "cr group")
    retitled = _group(CR_GROUP, "cr", CR_BOT, "Alpha")
    retitled.group.title = "Alpha's room"
    assert (await ops.stub.PutGroup(retitled)).title == "Alpha's room"
    await ops.stub.PutGroup(_group(-1_003_000_000_009, "treatment", TREATMENT_BOT))

    listed = await ops.stub.ListGroups(pb.ListRequest())
    assert [(g.chat_id, g.role, g.title, g.team) for g in listed.groups] == [
        (CR_GROUP, "cr", "Alpha's room", "Alpha"),
        (CS_GROUP, "cs", "cs group", ""),
        (-1_003_000_000_009, "treatment", "treatment group", ""),
    ]
    deactivate = pb.DeactivateRequest(kind="group", id=CS_GROUP, actor=OPERATOR)
    assert (await ops.stub.Deactivate(deactivate)).changed
    assert CS_GROUP not in [g.chat_id for g in (await ops.stub.ListGroups(pb.ListRequest())).groups]
    every = await ops.stub.ListGroups(pb.ListRequest(include_inactive=True))
    assert len(every.groups) == 3
    # Put again: active again.
    assert (await ops.stub.PutGroup(_group(CS_GROUP, "cs", CS_BOT))).active
    assert [a for a, *_ in await _audit(ops, target_kind="group", target_id=str(CR_GROUP))] == [
        "group.update",
        "group.create",
    ]


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        (_group(CS_GROUP, "lounge", CS_BOT), "INVALID_ARGUMENT", "group.role"),
        (_group(5, "cs", CS_BOT), "INVALID_ARGUMENT", "group.chat_id"),
        (_group(CR_GROUP, "cr", CR_BOT), "INVALID_ARGUMENT", "group.team is required"),
        (_group(CR_GROUP, "cr", CR_BOT, "Nobody"), "NOT_FOUND", "group.team"),
        (_group(CS_GROUP, "cs", 999), "NOT_FOUND", "group.bot_id"),
        (_group(CS_GROUP, "cs", CLIENT_BOT), "INVALID_ARGUMENT", "group.bot_id"),
        (_group(CS_GROUP, "cs", CS_BOT, title=""), "INVALID_ARGUMENT", "group.title"),
        (
            _group(CR_GROUP, "cr", CR_BOT, "Alpha", intake_thread_id=3),
            "INVALID_ARGUMENT",
            "intake_thread_id",
        ),
    ],
)
async def test_bad_groups_are_refused_with_the_field_named(
    ops: Ops, request_: pb.PutGroupRequest, code: str, words: str
) -> None:
    await add_bots(ops.sessions)
    await _team(ops, "Alpha")
    error = await rpc_error(ops.stub.PutGroup(request_))
    assert error.code() == getattr(grpc.StatusCode, code)
    assert words in error.details()


async def test_a_team_has_one_active_cr_group(ops: Ops) -> None:
    await add_bots(ops.sessions)
    await _team(ops, "Alpha")
    await _team(ops, "Beta")
    await ops.stub.PutGroup(_group(CR_GROUP, "cr", CR_BOT, "Alpha"))
    error = await rpc_error(ops.stub.PutGroup(_group(CR_GROUP_2, "cr", CR_BOT, "Alpha")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and str(CR_GROUP) in error.details()
    await ops.stub.PutGroup(_group(CR_GROUP_2, "cr", CR_BOT, "Beta"))  # another team: fine
    await ops.stub.Deactivate(pb.DeactivateRequest(kind="group", id=CR_GROUP, actor=OPERATOR))
    moved = _group(CR_GROUP_2, "cr", CR_BOT, "Alpha")
    assert (await ops.stub.PutGroup(moved)).team == "Alpha"


async def test_staff_are_upserted_by_telegram_user_id(ops: Ops) -> None:
    await _team(ops, "Alpha")
    anna = pb.StaffMember(telegram_user_id=6_001, display_name="Anna", role_label="CS")
    created = await ops.stub.PutStaff(pb.PutStaffRequest(member=anna, actor=OPERATOR))
    assert (created.display_name, created.team, created.active) == ("Anna", "", True)
    ravi = pb.StaffMember(
        telegram_user_id=6_002, display_name="Ravi", role_label="CR", team="Alpha"
    )
    await ops.stub.PutStaff(pb.PutStaffRequest(member=ravi, actor=OPERATOR))
    await ops.stub.Deactivate(pb.DeactivateRequest(kind="staff", id=6_001, actor=OPERATOR))
    listed = await ops.stub.ListStaff(pb.ListRequest())
    assert [(s.display_name, s.team) for s in listed.staff] == [("Ravi", "Alpha")]

    anna.display_name, anna.team = "Anna K.", "Alpha"
    updated = await ops.stub.PutStaff(pb.PutStaffRequest(member=anna, actor=OPERATOR))
    assert (updated.id, updated.display_name, updated.team, updated.active) == (
        created.id,
        "Anna K.",
        "Alpha",
        True,
    )
    assert len((await ops.stub.ListStaff(pb.ListRequest())).staff) == 2


@pytest.mark.parametrize(
    ("member", "code", "words"),
    [
        (
            pb.StaffMember(display_name="A", role_label="CS"),
            "INVALID_ARGUMENT",
            "member.telegram_user_id",
        ),
        (
            pb.StaffMember(telegram_user_id=1, role_label="CS"),
            "INVALID_ARGUMENT",
            "member.display_name",
        ),
        (
            pb.StaffMember(telegram_user_id=1, display_name="A"),
            "INVALID_ARGUMENT",
            "member.role_label",
        ),
        (
            pb.StaffMember(telegram_user_id=1, display_name="A", role_label="x" * 33),
            "INVALID_ARGUMENT",
            "member.role_label is too long",
        ),
        (
            pb.StaffMember(telegram_user_id=1, display_name="A", role_label="CS", team="Nope"),
            "NOT_FOUND",
            "member.team",
        ),
    ],
)
async def test_bad_staff_are_refused_with_the_field_named(
    ops: Ops, member: pb.StaffMember, code: str, words: str
) -> None:
    error = await rpc_error(ops.stub.PutStaff(pb.PutStaffRequest(member=member, actor=OPERATOR)))
    assert error.code() == getattr(grpc.StatusCode, code)
    assert words in error.details()


async def test_deactivating_something_unknown(ops: Ops) -> None:
    error = await rpc_error(
        ops.stub.Deactivate(pb.DeactivateRequest(kind="planet", id=1, actor=OPERATOR))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "kind" in error.details()
    for kind in ("team", "group", "staff"):
        error = await rpc_error(
            ops.stub.Deactivate(pb.DeactivateRequest(kind=kind, id=404, actor=OPERATOR))
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert error.details() == f"no {kind} with id 404"
