"""REST for the registry (teams, staff groups, staff members) and the user directory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf.message import Message

from switchboard.operations.v1 import operations_pb2 as ops_pb2

from .bodies import (
    CsvImportResult,
    CsvRejected,
    DirectoryImport,
    GroupBotsFields,
    GroupFields,
    ListQuery,
    NewGroup,
    NewStaff,
    StaffFields,
    TeamFields,
)
from .csv_import import parse_directory_csv
from .rest import Call, Route
from .scopes import DEACTIVATE_ACTIONS


async def list_teams(call: Call) -> ops_pb2.TeamList:
    return await call.forward(call.ops.ListTeams, ops_pb2.ListRequest(**call.query.model_dump()))


async def create_team(call: Call) -> ops_pb2.Team:
    call.attempt.details = {"name": call.body.name}
    team = await call.forward(call.ops.PutTeam, ops_pb2.PutTeamRequest(name=call.body.name))
    call.attempt.target("team", team.id)
    return team


async def update_team(call: Call) -> ops_pb2.Team:
    request = ops_pb2.PutTeamRequest(id=call.path_int("id"), name=call.body.name)
    return await call.forward(call.ops.PutTeam, request)


async def list_groups(call: Call) -> ops_pb2.GroupList:
    return await call.forward(call.ops.ListGroups, ops_pb2.ListRequest(**call.query.model_dump()))


async def create_group(call: Call) -> ops_pb2.Group:
    call.attempt.target("group", call.body.chat_id)
    group = ops_pb2.Group(**call.body.model_dump())
    return await call.forward(call.ops.PutGroup, ops_pb2.PutGroupRequest(group=group))


async def update_group(call: Call) -> ops_pb2.Group:
    group = ops_pb2.Group(chat_id=call.path_int("chat_id"), **call.body.model_dump())
    return await call.forward(call.ops.PutGroup, ops_pb2.PutGroupRequest(group=group))


async def group_bots(call: Call) -> ops_pb2.GroupBots:
    request = ops_pb2.GetGroupBotsRequest(chat_id=call.path_int("chat_id"))
    return await call.forward(call.ops.GetGroupBots, request)


async def set_group_bots(call: Call) -> ops_pb2.GroupBots:
    call.attempt.details = {"bots": list(call.body.bots)}
    request = ops_pb2.SetGroupBotsRequest(chat_id=call.path_int("chat_id"), bots=call.body.bots)
    return await call.forward(call.ops.SetGroupBots, request)


async def list_staff(call: Call) -> ops_pb2.StaffList:
    return await call.forward(call.ops.ListStaff, ops_pb2.ListRequest(**call.query.model_dump()))


async def create_staff(call: Call) -> ops_pb2.StaffMember:
    call.attempt.target("staff", call.body.telegram_user_id)
    member = ops_pb2.StaffMember(**call.body.model_dump())
    return await call.forward(call.ops.PutStaff, ops_pb2.PutStaffRequest(member=member))


async def update_staff(call: Call) -> ops_pb2.StaffMember:
    fields = call.body.model_dump()
    member = ops_pb2.StaffMember(telegram_user_id=call.path_int("telegram_user_id"), **fields)
    return await call.forward(call.ops.PutStaff, ops_pb2.PutStaffRequest(member=member))


def deactivate(kind: str, parameter: str) -> Callable[[Call], Awaitable[Message]]:
    """The run function deactivating a `kind` named by the path's `parameter`."""

    async def run(call: Call) -> Message:
        request = ops_pb2.DeactivateRequest(kind=kind, id=call.path_int(parameter))
        return await call.forward(call.ops.Deactivate, request)

    return run


async def import_directory(call: Call) -> ops_pb2.ImportDirectoryResponse | CsvImportResult:
    if isinstance(call.body, str):
        return await _import_csv(call, call.body)
    entries = [ops_pb2.DirectoryEntry(**e.model_dump()) for e in call.body.entries]
    call.attempt.details = {"entries": len(entries)}
    return await call.forward(
        call.ops.ImportDirectory, ops_pb2.ImportDirectoryRequest(entries=entries)
    )


async def _import_csv(call: Call, text: str) -> CsvImportResult:
    parsed = parse_directory_csv(text)
    call.attempt.details = {"entries": len(parsed.entries), "rejected": len(parsed.rejected)}
    created = updated = 0
    rejected = list(parsed.rejected)
    if parsed.entries:
        entries = [ops_pb2.DirectoryEntry(**e.model_dump()) for e in parsed.entries]
        answer = await call.forward(
            call.ops.ImportDirectory, ops_pb2.ImportDirectoryRequest(entries=entries)
        )
        created, updated = answer.created, answer.updated
        # Routing numbers what it refused by position in the request; the operator
        # knows the file by its lines.
        rejected += [
            CsvRejected(line=parsed.lines[r.index - 1], reason=r.reason)
            for r in answer.rejected
            if 0 < r.index <= len(parsed.lines)
        ]
    rejected.sort(key=lambda r: r.line)
    return CsvImportResult(created=created, updated=updated, rejected=rejected)


ROUTES = [
    Route(
        "GET",
        "/v1/teams",
        "ListTeams",
        list_teams,
        "List the CR teams",
        ops_pb2.TeamList.DESCRIPTOR,
        query=ListQuery,
    ),
    Route(
        "POST",
        "/v1/teams",
        "PutTeam",
        create_team,
        "Create a team",
        ops_pb2.Team.DESCRIPTOR,
        body=TeamFields,
        status=201,
    ),
    Route(
        "PUT",
        "/v1/teams/{id}",
        "PutTeam",
        update_team,
        "Rename or reactivate a team",
        ops_pb2.Team.DESCRIPTOR,
        body=TeamFields,
        target=("team", "id"),
    ),
    Route(
        "POST",
        "/v1/teams/{id}/deactivate",
        "Deactivate",
        deactivate("team", "id"),
        "Deactivate a team (kept for the history)",
        ops_pb2.DeactivateResponse.DESCRIPTOR,
        target=("team", "id"),
        action=DEACTIVATE_ACTIONS["team"],
    ),
    Route(
        "GET",
        "/v1/groups",
        "ListGroups",
        list_groups,
        "List the staff groups",
        ops_pb2.GroupList.DESCRIPTOR,
        query=ListQuery,
    ),
    Route(
        "POST",
        "/v1/groups",
        "PutGroup",
        create_group,
        "Register a staff group (or update the one with this chat id)",
        ops_pb2.Group.DESCRIPTOR,
        body=NewGroup,
        status=201,
    ),
    Route(
        "PUT",
        "/v1/groups/{chat_id}",
        "PutGroup",
        update_group,
        "Update or reactivate a staff group",
        ops_pb2.Group.DESCRIPTOR,
        body=GroupFields,
        target=("group", "chat_id"),
    ),
    Route(
        "POST",
        "/v1/groups/{chat_id}/deactivate",
        "Deactivate",
        deactivate("group", "chat_id"),
        "Deactivate a staff group",
        ops_pb2.DeactivateResponse.DESCRIPTOR,
        target=("group", "chat_id"),
        action=DEACTIVATE_ACTIONS["group"],
    ),
    Route(
        "GET",
        "/v1/groups/{chat_id}/bots",
        "GetGroupBots",
        group_bots,
        "A staff group's pool of bots (its own first), with the topics each speaks in",
        ops_pb2.GroupBots.DESCRIPTOR,
        target=("group", "chat_id"),
    ),
    Route(
        "PUT",
        "/v1/groups/{chat_id}/bots",
        "SetGroupBots",
        set_group_bots,
        "Replace a staff group's further bots of its role: new topics go to the "
        "least-loaded bot, a topic keeps its bot",
        ops_pb2.GroupBots.DESCRIPTOR,
        body=GroupBotsFields,
        target=("group", "chat_id"),
    ),
    Route(
        "GET",
        "/v1/staff",
        "ListStaff",
        list_staff,
        "List the staff members",
        ops_pb2.StaffList.DESCRIPTOR,
        query=ListQuery,
    ),
    Route(
        "POST",
        "/v1/staff",
        "PutStaff",
        create_staff,
        "Add a staff member (or update the one with this Telegram user id)",
        ops_pb2.StaffMember.DESCRIPTOR,
        body=NewStaff,
        status=201,
    ),
    Route(
        "PUT",
        "/v1/staff/{telegram_user_id}",
        "PutStaff",
        update_staff,
        "Update or reactivate a staff member",
        ops_pb2.StaffMember.DESCRIPTOR,
        body=StaffFields,
        target=("staff", "telegram_user_id"),
    ),
    Route(
        "POST",
        "/v1/staff/{telegram_user_id}/deactivate",
        "Deactivate",
        deactivate("staff", "telegram_user_id"),
        "Deactivate a staff member",
        ops_pb2.DeactivateResponse.DESCRIPTOR,
        target=("staff", "telegram_user_id"),
        action=DEACTIVATE_ACTIONS["staff"],
    ),
    Route(
        "POST",
        "/v1/directory/import",
        "ImportDirectory",
        import_directory,
        "Import user accounts: JSON {entries: [...]} or a text/csv body with the header "
        "email,full_name,external_id,treatment,active (a CSV answer reports rejected "
        "rows by line)",
        ops_pb2.ImportDirectoryResponse.DESCRIPTOR,
        body=DirectoryImport,
        csv=CsvImportResult,
    ),
]
