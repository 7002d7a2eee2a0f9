"""The registry of bots, staff groups, teams and staff, loaded from a document (the
only way bots get in; the operations API changes the rest too). Loading again updates
what exists. A group may list its pool, `bots: [ids or usernames]` beside its `bot_id`:
further bots of its role (services.routing.operations.group_pools). A bot may name its
`log_chat_id`: a chat it owns where delivery reads a message by forwarding it there
(checking whether an unsure send exists; outbox/unsure_sends.py), null for none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument
from services.routing.db.enums import BotRole, GroupRole
from services.routing.db.models import Bot, Staff, StaffGroup, Team
from services.routing.operations import group_pools


async def load(session: AsyncSession, doc: dict[str, Any]) -> dict[str, int]:
    """Upsert bots, teams, groups and staff; answer how many of each."""
    teams: dict[str, int] = {}
    for spec in doc.get("teams", []):
        team = (
            await session.execute(select(Team).where(Team.name == spec["name"]))
        ).scalar_one_or_none()
        if team is None:
            team = Team(name=spec["name"])
            session.add(team)
            await session.flush()
        teams[team.name] = team.id
    for spec in doc.get("bots", []):
        bot = await session.get(Bot, spec["id"]) or Bot(id=spec["id"])
        bot.role, bot.username = BotRole(spec["role"]), spec["username"]
        if "log_chat_id" in spec:  # absent: unchanged; null: none
            bot.log_chat_id = _log_chat(spec)
        session.add(bot)
    await session.flush()
    for spec in doc.get("groups", []):
        team_name = spec.get("team")
        if team_name and team_name not in teams:
            raise InvalidArgument(f"group {spec['id']}: unknown team {team_name!r}")
        group = await session.get(StaffGroup, spec["id"]) or StaffGroup(id=spec["id"])
        group.role, group.title, group.bot_id = (
            GroupRole(spec["role"]),
            spec["title"],
            spec["bot_id"],
        )
        group.team_id = teams.get(team_name) if team_name else None
        group.intake_thread_id = spec.get("intake_thread_id")
        session.add(group)
        if "bots" in spec:
            # Its pool: further bots of its role, by id or username (absent: unchanged).
            await session.flush()
            if not isinstance(spec["bots"], list):
                raise InvalidArgument(f"group {spec['id']}: bots is a list of ids or usernames")
            await group_pools.set_pool(
                session, group, spec["bots"], field=f"group {spec['id']}: bots"
            )
    for spec in doc.get("staff", []):
        person = (
            await session.execute(
                select(Staff).where(Staff.telegram_user_id == spec["telegram_user_id"])
            )
        ).scalar_one_or_none() or Staff(telegram_user_id=spec["telegram_user_id"])
        person.display_name, person.role_label = spec["display_name"], spec["role_label"]
        team_name = spec.get("team")
        person.team_id = teams.get(team_name) if team_name else None
        session.add(person)
    await session.flush()
    return {key: len(doc.get(key, [])) for key in ("teams", "bots", "groups", "staff")}


def _log_chat(spec: dict[str, Any]) -> int | None:
    value = spec["log_chat_id"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise InvalidArgument(
            f"bot {spec['id']}: log_chat_id is a chat id (a non-zero integer) or null"
        )
    if not -(2**63) <= value < 2**63:
        raise InvalidArgument(f"bot {spec['id']}: log_chat_id is out of range")
    return value
