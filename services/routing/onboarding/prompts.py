"""The CS group's intake: where a client waiting for confirmation is shown, with a
button per CR team. The buttons are the decision (services/routing/onboarding/decisions.py)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import utcnow
from services.routing.db.enums import GroupRole, SenderKind
from services.routing.db.models import Assignment, Customer, Message, StaffGroup, Team
from services.routing.domain import onboarding
from services.routing.domain.plan import Action, Content, Planned
from services.routing.outbox.jobs import Outgoing

log = logging.getLogger(__name__)
CS_PROMPTS = "cs-prompts"


async def group_of(
    session: AsyncSession, role: GroupRole, team_id: int | None = None
) -> StaffGroup | None:
    """The active staff group of this role (of this team, for CR): the oldest if several."""
    query = select(StaffGroup).where(StaffGroup.role == role, StaffGroup.active.is_(True))
    if team_id is not None:
        query = query.where(StaffGroup.team_id == team_id)
    return await session.scalar(query.order_by(StaffGroup.created_at, StaffGroup.id).limit(1))


async def cr_teams(session: AsyncSession) -> list[tuple[int, str]]:
    """Active teams that have an active CR group: the choices CS is offered."""
    rows = await session.execute(
        select(Team.id, Team.name)
        .join(StaffGroup, StaffGroup.team_id == Team.id)
        .where(Team.active.is_(True), StaffGroup.role == GroupRole.CR, StaffGroup.active.is_(True))
        .distinct()
        .order_by(Team.name)
    )
    return [(team_id, name) for team_id, name in rows.all()]


async def prompt(
    session: AsyncSession,
    customer: Customer,
    assignment: Assignment,
    *,
    reason: str = "",
    correlation: str = "",
) -> list[Outgoing]:
    """The prompt in the CS intake topic (none when no CS group is set up: operations
    assign through the API then). It is backed up as a system line, so its copy is
    found when the request is decided."""
    group = await group_of(session, GroupRole.CS)
    if group is None:
        log.warning("no CS group to prompt in", extra={"customer_id": customer.id})
        return []
    candidate = onboarding.Candidate(
        assignment.id,
        customer.display_name,
        _telegram_name(customer),
        customer.username or "",
        customer.email or "",
        customer.treatment,
    )
    teams = await cr_teams(session)
    text = onboarding.prompt_text(candidate, reason=reason)
    if not teams:
        text += "\n\nNo CR team with a group is set up: add one, then assign through the API."
    line = Message(
        customer_id=customer.id,
        sender_kind=SenderKind.SYSTEM,
        kind="text",
        text=text,
        internal=True,
        created_at=utcnow(),
    )
    session.add(line)
    await session.flush()
    assignment.prompt_message_id = line.id
    keyboard = onboarding.prompt_keyboard(assignment.id, teams)
    sent = Planned(
        lane=CS_PROMPTS,
        bot_id=group.bot_id,
        chat_id=group.id,
        thread_id=group.intake_thread_id,
        content=Content("text", text, (), keyboard=keyboard),
        topic_id=None,
        reply_to_origin=None,
    )
    return [Outgoing(line.id, [sent], correlation)]


async def decided(
    session: AsyncSession, assignment: Assignment, footer: str, *, correlation: str = ""
) -> list[Outgoing]:
    """The prompt's copy says who decided, and its buttons go (an edit without them)."""
    line = await session.get(Message, assignment.prompt_message_id or 0)
    group = await group_of(session, GroupRole.CS)
    if line is None or group is None:
        return []
    edit = Action("edit_text", text=f"{line.text}\n\n{footer}")
    job = Planned(
        lane=CS_PROMPTS,
        bot_id=group.bot_id,
        chat_id=group.id,
        thread_id=group.intake_thread_id,
        content=edit,
        topic_id=None,
        reply_to_origin=None,
        refers_to=line.id,
    )
    return [Outgoing(line.id, [job], correlation)]


def _telegram_name(customer: Customer) -> str:
    return f"id {customer.telegram_user_id}"
