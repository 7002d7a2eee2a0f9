"""Staff groups through the operations API: the forum supergroups staff work in, keyed
by chat id. The design has one CS group, one Treatment group and one group per CR
team, each served by the bot of its role; a second active one would leave routing
guessing where a customer's topic belongs, so it is refused until the first goes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.routing.db.enums import GroupRole
from services.routing.db.models import Bot, StaffGroup, Team
from services.routing.operations import fields
from services.routing.operations.audit_log import audit
from services.routing.operations.registry import team_named
from switchboard.operations.v1 import operations_pb2


async def list_groups(
    session: AsyncSession, *, include_inactive: bool
) -> list[tuple[StaffGroup, str | None]]:
    query = select(StaffGroup, Team.name).outerjoin(Team, Team.id == StaffGroup.team_id)
    if not include_inactive:
        query = query.where(StaffGroup.active.is_(True))
    rows = await session.execute(query.order_by(StaffGroup.role, StaffGroup.title, StaffGroup.id))
    return [(g, t) for g, t in rows]


async def put_group(
    session: AsyncSession, *, group: operations_pb2.Group, actor: operations_pb2.Actor
) -> tuple[StaffGroup, str | None]:
    """Create a staff group, or update (and reactivate) the one with this chat id."""
    if group.chat_id >= 0:
        raise InvalidArgument(
            f"group.chat_id must be a supergroup's chat id, which is negative (got {group.chat_id})"
        )
    role = GroupRole(fields.choice(group.role, field="group.role", allowed=list(GroupRole)))
    title = fields.text(group.title, field="group.title", max_length=255)
    team_name = fields.text(group.team, field="group.team", max_length=64, required=False)
    if role == GroupRole.CR and not team_name:
        raise InvalidArgument("group.team is required for a cr group (the CR team it serves)")
    if group.intake_thread_id < 0:
        raise InvalidArgument("group.intake_thread_id must not be negative")
    if group.intake_thread_id and role != GroupRole.CS:
        raise InvalidArgument("group.intake_thread_id is for the cs group only")
    bot = await session.get(Bot, group.bot_id) if group.bot_id else None
    if bot is None:
        raise NotFound(f"group.bot_id: no bot with id {group.bot_id}")
    if str(bot.role) != role.value:
        raise InvalidArgument(
            f"group.bot_id: bot {bot.id} is the {bot.role} bot; a {role} group needs the {role} bot"
        )
    team = await team_named(session, team_name, field="group.team") if team_name else None
    await _refuse_a_second(session, role, team, chat_id=group.chat_id)
    row = await session.get(StaffGroup, group.chat_id)
    action = "group.update"
    if row is None:
        row, action = StaffGroup(id=group.chat_id), "group.create"
        session.add(row)
    row.role, row.title, row.bot_id, row.active = role, title, bot.id, True
    row.team_id = team.id if team else None
    row.intake_thread_id = group.intake_thread_id or None
    await session.flush()
    details = {"role": role.value, "title": title, "bot_id": bot.id, "team": team_name}
    audit(session, actor, action, "group", group.chat_id, details=details)
    return row, team.name if team else None


async def _refuse_a_second(
    session: AsyncSession, role: GroupRole, team: Team | None, *, chat_id: int
) -> None:
    query = select(StaffGroup.id).where(
        StaffGroup.role == role, StaffGroup.active.is_(True), StaffGroup.id != chat_id
    )
    if role == GroupRole.CR:
        query = query.where(StaffGroup.team_id == (team.id if team else None))
    other = await session.scalar(query.limit(1))
    if other is not None:
        which = f"team {team.name!r}" if role == GroupRole.CR and team else "the service"
        raise FailedPrecondition(
            f"{which} already has an active {role} group (chat {other}); deactivate it first"
        )


def group_view(row: StaffGroup, team: str | None) -> operations_pb2.Group:
    return operations_pb2.Group(
        chat_id=row.id,
        role=str(row.role),
        title=row.title,
        bot_id=row.bot_id,
        team=team or "",
        active=row.active,
        intake_thread_id=row.intake_thread_id or 0,
    )
