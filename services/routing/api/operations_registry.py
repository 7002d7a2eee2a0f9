"""OperationsService for the registry (teams, staff groups and their bot pools, staff
members) and the user directory."""

from __future__ import annotations

import logging

from services.routing.api.operations_parts import Parts
from services.routing.operations import fields, group_pools, registry, staff_groups
from services.routing.operations.directory_import import import_directory as upsert_directory
from switchboard.operations.v1 import operations_pb2 as pb

log = logging.getLogger(__name__)


async def list_teams(parts: Parts, request: pb.ListRequest) -> pb.TeamList:
    async with parts.sessions() as session:
        teams = await registry.list_teams(session, include_inactive=request.include_inactive)
    return pb.TeamList(teams=[registry.team_view(t) for t in teams])


async def put_team(parts: Parts, request: pb.PutTeamRequest) -> pb.Team:
    """Create a team, or rename / reactivate the one with this id."""
    fields.actor(request.actor)
    async with parts.change(f"a team named {request.name.strip()!r} exists") as session:
        team = await registry.put_team(
            session, team_id=request.id, name=request.name, actor=request.actor
        )
    return registry.team_view(team)


async def list_groups(parts: Parts, request: pb.ListRequest) -> pb.GroupList:
    async with parts.sessions() as session:
        rows = await staff_groups.list_groups(session, include_inactive=request.include_inactive)
    return pb.GroupList(groups=[staff_groups.group_view(*row) for row in rows])


async def put_group(parts: Parts, request: pb.PutGroupRequest) -> pb.Group:
    """Create or update (and reactivate) the staff group with this chat id."""
    fields.actor(request.actor)
    async with parts.change(f"group {request.group.chat_id} changed meanwhile") as session:
        row = await staff_groups.put_group(session, group=request.group, actor=request.actor)
    return staff_groups.group_view(*row)


async def group_bots(parts: Parts, request: pb.GetGroupBotsRequest) -> pb.GroupBots:
    """A staff group's pool of bots, with the topics each speaks in."""
    async with parts.sessions() as session:
        return await group_pools.view(session, request.chat_id)


async def set_group_bots(parts: Parts, request: pb.SetGroupBotsRequest) -> pb.GroupBots:
    """Replace a staff group's further bots (audited)."""
    fields.actor(request.actor)
    async with parts.change(f"group {request.chat_id} changed meanwhile") as session:
        return await group_pools.put_pool(
            session, chat_id=request.chat_id, bots=list(request.bots), actor=request.actor
        )


async def list_staff(parts: Parts, request: pb.ListRequest) -> pb.StaffList:
    async with parts.sessions() as session:
        rows = await registry.list_staff(session, include_inactive=request.include_inactive)
    return pb.StaffList(staff=[registry.staff_view(*row) for row in rows])


async def put_staff(parts: Parts, request: pb.PutStaffRequest) -> pb.StaffMember:
    """Create or update (and reactivate) the staff member with this Telegram user id."""
    fields.actor(request.actor)
    user_id = request.member.telegram_user_id
    async with parts.change(f"staff member {user_id} changed meanwhile") as session:
        row = await registry.put_staff(session, member=request.member, actor=request.actor)
    return registry.staff_view(*row)


async def deactivate(parts: Parts, request: pb.DeactivateRequest) -> pb.DeactivateResponse:
    """Deactivate a team, group or staff member; changed is false if it already was."""
    fields.actor(request.actor)
    async with parts.sessions() as session, session.begin():
        changed = await registry.deactivate(
            session, kind=request.kind, target_id=request.id, actor=request.actor
        )
    return pb.DeactivateResponse(changed=changed)


async def import_directory(
    parts: Parts, request: pb.ImportDirectoryRequest
) -> pb.ImportDirectoryResponse:
    """Upsert directory users by email; rows with problems come back in `rejected`."""
    fields.actor(request.actor)
    async with parts.change("another import added one of these emails; retry") as session:
        done = await upsert_directory(session, entries=list(request.entries), actor=request.actor)
    counts = {"added": done.created, "changed": done.updated, "refused": len(done.rejected)}
    log.info("directory imported", extra=counts)
    return pb.ImportDirectoryResponse(
        created=done.created,
        updated=done.updated,
        rejected=[pb.RejectedEntry(index=i, reason=r) for i, r in done.rejected],
    )
