"""The registry through the operations API: teams and staff members (staff groups are
in staff_groups), listing them, and deactivating any of the three. Nothing is deleted:
customers, topics and the audit keep pointing at what was.

Kept consistent with the document loader (services.routing.operations.registry_document): staff
are keyed by Telegram user id, teams by name, groups by chat id."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import AlreadyExists, InvalidArgument, NotFound
from services.routing.db.models import Staff, StaffGroup, Team
from services.routing.operations import fields
from services.routing.operations.audit_log import audit
from switchboard.operations.v1 import operations_pb2

# What can be deactivated: the model, the column its id is in, and its active flag.
KINDS = {
    "team": (Team, Team.id, Team.active),
    "group": (StaffGroup, StaffGroup.id, StaffGroup.active),
    "staff": (Staff, Staff.telegram_user_id, Staff.active),
}


async def team_named(session: AsyncSession, name: str, *, field: str) -> Team:
    """The team with this name (active or not); NOT_FOUND naming the field otherwise."""
    team = await session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"{field}: no team named {name!r}")
    return team


async def list_teams(session: AsyncSession, *, include_inactive: bool) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if not include_inactive:
        query = query.where(Team.active.is_(True))
    return list(await session.scalars(query))


async def put_team(
    session: AsyncSession, *, team_id: int, name: str, actor: operations_pb2.Actor
) -> Team:
    """Create a team, or (with its id) rename and reactivate it."""
    name = fields.text(name, field="name", max_length=64)
    holder = await session.scalar(select(Team).where(Team.name == name))
    if team_id:
        team = await session.get(Team, team_id)
        if team is None:
            raise NotFound(f"no team with id {team_id}")
        if holder is not None and holder.id != team.id:
            raise AlreadyExists(f"another team (id {holder.id}) is named {name!r}")
        details = {"name": name, "was": team.name, "was_active": team.active}
        team.name, team.active = name, True
        action = "team.update"
    else:
        if holder is not None:
            hint = "" if holder.active else "; reactivate it by passing its id"
            raise AlreadyExists(f"a team named {name!r} exists (id {holder.id}){hint}")
        team = Team(name=name, active=True)
        session.add(team)
        details, action = {"name": name}, "team.create"
    await session.flush()
    audit(session, actor, action, "team", team.id, details=details)
    return team


async def list_staff(
    session: AsyncSession, *, include_inactive: bool
) -> list[tuple[Staff, str | None]]:
    query = select(Staff, Team.name).outerjoin(Team, Team.id == Staff.team_id)
    if not include_inactive:
        query = query.where(Staff.active.is_(True))
    return [(s, t) for s, t in await session.execute(query.order_by(Staff.display_name, Staff.id))]


async def put_staff(
    session: AsyncSession, *, member: operations_pb2.StaffMember, actor: operations_pb2.Actor
) -> tuple[Staff, str | None]:
    """Create a staff member, or update (and reactivate) the one with this Telegram id."""
    user_id = fields.positive(member.telegram_user_id, field="member.telegram_user_id")
    name = fields.text(member.display_name, field="member.display_name", max_length=128)
    label = fields.text(member.role_label, field="member.role_label", max_length=32)
    team_name = fields.text(member.team, field="member.team", max_length=64, required=False)
    team = await team_named(session, team_name, field="member.team") if team_name else None
    person = await session.scalar(select(Staff).where(Staff.telegram_user_id == user_id))
    action = "staff.update"
    if person is None:
        person, action = Staff(telegram_user_id=user_id), "staff.create"
        session.add(person)
    person.display_name, person.role_label, person.active = name, label, True
    person.team_id = team.id if team else None
    await session.flush()
    audit(
        session,
        actor,
        action,
        "staff",
        user_id,
        details={"display_name": name, "role_label": label, "team": team_name},
    )
    return person, team.name if team else None


async def deactivate(
    session: AsyncSession, *, kind: str, target_id: int, actor: operations_pb2.Actor
) -> bool:
    """Mark a team, group or staff member inactive; False when it already was."""
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of team, group, staff (got {kind!r})")
    model, key, active = KINDS[kind]
    exists = await session.scalar(select(key).where(key == target_id))
    if exists is None:
        raise NotFound(f"no {kind} with id {target_id}")
    # Conditional, so two deactivations at once report one change between them.
    result = await session.execute(
        update(model).where(key == target_id, active.is_(True)).values(active=False)
    )
    changed = cast(CursorResult[Any], result).rowcount > 0
    audit(session, actor, f"{kind}.deactivate", kind, target_id, details={"changed": changed})
    return changed


def team_view(team: Team) -> operations_pb2.Team:
    return operations_pb2.Team(id=team.id, name=team.name, active=team.active)


def staff_view(person: Staff, team: str | None) -> operations_pb2.StaffMember:
    return operations_pb2.StaffMember(
        id=person.id,
        telegram_user_id=person.telegram_user_id,
        display_name=person.display_name,
        role_label=person.role_label,
        team=team or "",
        active=person.active,
    )
