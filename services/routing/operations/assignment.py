"""Assignment run by operations: assign a customer to a CR team, unassign them, record
a move to another team (the move itself comes with reassignment), switch Treatment.

Assigning goes through the same decision as a CS member's press (one outcome however
many ask at once). Unassigning closes the customer's topics and puts them back in the
CS intake: their lines are kept until someone assigns them again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import FailedPrecondition, NotFound
from services.routing.db.enums import (
    AssignmentKind,
    AssignmentStatus,
    CustomerStatus,
    GroupRole,
    TopicStatus,
)
from services.routing.db.models import Assignment, Customer, StaffGroup, Team, Topic
from services.routing.domain import plan
from services.routing.domain.onboarding import Texts
from services.routing.onboarding import decisions, intake, prompts
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor, audit_customer

LIVE = (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED)
CLOSED_BY = "This topic is closed: {name} was unassigned by {by}."


async def locked_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return customer


async def team_named(session: AsyncSession, name: str) -> Team:
    team = await session.scalar(select(Team).where(Team.name == name, Team.active.is_(True)))
    if team is None:
        raise NotFound(f"no active CR team named {name!r}")
    if await prompts.group_of(session, GroupRole.CR, team.id) is None:
        raise FailedPrecondition(f"CR team {name!r} has no active group")
    return team


async def assign(
    session: AsyncSession, customer_id: int, team_name: str, actor: Actor, *, now: datetime,
    texts: Texts, correlation: str = "",
) -> list[Outgoing]:  # fmt: skip
    customer = await locked_customer(session, customer_id)
    if customer.status in LIVE:
        raise FailedPrecondition(
            f"customer {customer_id} is already assigned; change their team instead"
        )
    team = await team_named(session, team_name)
    request = await intake.open_assignment(session, customer.id)
    if request is not None and request.status != AssignmentStatus.PENDING:
        raise FailedPrecondition(f"customer {customer_id} is being set up already")
    if request is None:  # assigned without CS's prompt (no email given, or rejected)
        request = Assignment(
            customer_id=customer.id, kind=AssignmentKind.ONBOARDING, requested_at=now,
            status=AssignmentStatus.PENDING,
        )  # fmt: skip
        session.add(request)
        await session.flush()
    customer.status = CustomerStatus.PENDING
    outcome = await decisions.confirm(
        session, request.id, team.id, actor, now=now, texts=texts, correlation=correlation
    )
    if not outcome.done:
        raise FailedPrecondition(outcome.reason)
    return outcome.lines


async def unassign(
    session: AsyncSession, customer_id: int, actor: Actor, *, now: datetime, correlation: str = ""
) -> list[Outgoing]:
    customer = await locked_customer(session, customer_id)
    if customer.status not in LIVE:
        raise FailedPrecondition(f"customer {customer_id} is not assigned")
    lines = []
    rows = await session.execute(
        select(Topic, StaffGroup)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.customer_id == customer.id, Topic.status == TopicStatus.OPEN)
    )
    told = plan.Content("text", CLOSED_BY.format(name=customer.display_name, by=actor.name), ())
    for topic, group in rows.all():
        topic.status, topic.closed_at = TopicStatus.CLOSED, now
        lane = plan.TREATMENT if group.role == GroupRole.TREATMENT else plan.CLIENT_TO_STAFF
        thread = topic.message_thread_id
        lines.append(
            Outgoing(None, [
                plan.Planned(lane, group.bot_id, group.id, thread, told, topic.id, None),
                plan.Planned(lane, group.bot_id, group.id, thread, plan.Action("close_topic"),
                             topic.id, None),
            ], correlation)
        )  # fmt: skip
    customer.status, customer.cr_team_id = CustomerStatus.PENDING, None
    await _cancel_moves(session, customer.id)
    request = Assignment(
        customer_id=customer.id, kind=AssignmentKind.ONBOARDING, requested_at=now,
        status=AssignmentStatus.PENDING,
    )  # fmt: skip
    session.add(request)
    audit_customer(session, actor, "customer.unassign", customer.id, correlation)
    await session.flush()
    reason = f"↩️ Unassigned by {actor.name}: choose a CR team to assign them again"
    lines += await prompts.prompt(
        session, customer, request, reason=reason, correlation=correlation
    )
    return lines


async def change_team(
    session: AsyncSession, customer_id: int, team_name: str, actor: Actor, *, now: datetime,
    correlation: str = "",
) -> None:  # fmt: skip
    """Recorded for the reassignment flow to carry out; one move at a time."""
    customer = await locked_customer(session, customer_id)
    if customer.status not in LIVE:
        raise FailedPrecondition(f"customer {customer_id} is not assigned yet; assign them")
    team = await team_named(session, team_name)
    if team.id == customer.cr_team_id:
        raise FailedPrecondition(f"customer {customer_id} is in team {team_name!r} already")
    moving = await session.scalar(
        select(Team.name)
        .join(Assignment, Assignment.cr_team_id == Team.id)
        .where(
            Assignment.customer_id == customer.id, Assignment.kind == AssignmentKind.TEAM_CHANGE,
            Assignment.status == AssignmentStatus.PENDING,
        )
    )  # fmt: skip
    if moving is not None:
        raise FailedPrecondition(f"a move of customer {customer_id} to {moving!r} is in progress")
    session.add(
        Assignment(
            customer_id=customer.id, kind=AssignmentKind.TEAM_CHANGE, cr_team_id=team.id,
            status=AssignmentStatus.PENDING, requested_at=now,
        )
    )  # fmt: skip
    audit_customer(
        session, actor, "customer.team_change_requested", customer.id, correlation, to=team_name
    )


async def _cancel_moves(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        update(Assignment)
        .where(
            Assignment.customer_id == customer_id,
            Assignment.status == AssignmentStatus.PENDING,
        )
        .values(status=AssignmentStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
