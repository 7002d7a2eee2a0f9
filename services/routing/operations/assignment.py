"""Assignment run by operations: assign a customer to a CR team, unassign them, record
a move to another team (carrying the move out is not built yet: the request is kept,
pending, and shown on the customer).

Assigning goes through onboarding's own decision, as a CS member's press does (one
outcome however many ask at once). Unassigning closes the customer's topics and puts
them back in the CS intake: their lines are kept until someone assigns them again.
Onboarding's steps come in as `OnboardingSteps` (see onboarding_steps).
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
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor, audit_customer

LIVE = (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED)
CLOSED_BY = "This topic is closed: {name} was unassigned by {by}."


async def locked_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return customer


async def team_named(session: AsyncSession, name: str, onboarding: OnboardingSteps) -> Team:
    """The active CR team of this name, which must have an active group to work in."""
    team = await session.scalar(select(Team).where(Team.name == name, Team.active.is_(True)))
    if team is None:
        raise NotFound(f"no active CR team named {name!r}")
    if await onboarding.group_of(session, GroupRole.CR, team.id) is None:
        raise FailedPrecondition(f"CR team {name!r} has no active group")
    return team


async def assign(
    session: AsyncSession,
    customer_id: int,
    team_name: str,
    actor: Actor,
    *,
    now: datetime,
    texts: Texts,
    onboarding: OnboardingSteps,
    correlation: str = "",
) -> list[Outgoing]:
    customer = await locked_customer(session, customer_id)
    if customer.status in LIVE:
        raise FailedPrecondition(
            f"customer {customer_id} is already assigned; change their team instead"
        )
    team = await team_named(session, team_name, onboarding)
    request = await onboarding.open_assignment(session, customer.id)
    if request is not None and request.status != AssignmentStatus.PENDING:
        raise FailedPrecondition(f"customer {customer_id} is being set up already")
    if request is None:  # assigned without CS's prompt (no email given, or rejected)
        request = _onboarding_request(customer.id, now)
        session.add(request)
        await session.flush()
    customer.status = CustomerStatus.PENDING
    outcome = await onboarding.confirm(
        session, request.id, team.id, actor, now=now, texts=texts, correlation=correlation
    )
    if not outcome.done:
        raise FailedPrecondition(outcome.reason)
    return outcome.lines


async def unassign(
    session: AsyncSession,
    customer_id: int,
    actor: Actor,
    *,
    now: datetime,
    onboarding: OnboardingSteps,
    correlation: str = "",
) -> list[Outgoing]:
    customer = await locked_customer(session, customer_id)
    if customer.status not in LIVE:
        raise FailedPrecondition(f"customer {customer_id} is not assigned")
    lines: list[Outgoing] = []
    rows = await session.execute(
        select(Topic, StaffGroup)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.customer_id == customer.id, Topic.status == TopicStatus.OPEN)
    )
    told = plan.Content("text", CLOSED_BY.format(name=customer.display_name, by=actor.name), ())
    for topic, group in rows.all():
        topic.status, topic.closed_at = TopicStatus.CLOSED, now
        lines.append(Outgoing(None, closing_jobs(group, topic, told), correlation))
    customer.status, customer.cr_team_id = CustomerStatus.PENDING, None
    await _cancel_moves(session, customer.id)
    request = _onboarding_request(customer.id, now)
    session.add(request)
    audit_customer(session, actor, "customer.unassign", customer.id, correlation)
    await session.flush()
    reason = f"↩️ Unassigned by {actor.name}: choose a CR team to assign them again"
    lines += await onboarding.prompt(
        session, customer, request, reason=reason, correlation=correlation
    )
    return lines


async def change_team(
    session: AsyncSession,
    customer_id: int,
    team_name: str,
    actor: Actor,
    *,
    now: datetime,
    onboarding: OnboardingSteps,
    correlation: str = "",
) -> None:
    """Record a move to another team as a pending request (nothing carries it out yet);
    one move at a time."""
    customer = await locked_customer(session, customer_id)
    if customer.status not in LIVE:
        raise FailedPrecondition(f"customer {customer_id} is not assigned yet; assign them")
    team = await team_named(session, team_name, onboarding)
    if team.id == customer.cr_team_id:
        raise FailedPrecondition(f"customer {customer_id} is in team {team_name!r} already")
    moving = await session.scalar(
        select(Team.name)
        .join(Assignment, Assignment.cr_team_id == Team.id)
        .where(
            Assignment.customer_id == customer.id,
            Assignment.kind == AssignmentKind.TEAM_CHANGE,
            Assignment.status == AssignmentStatus.PENDING,
        )
    )
    if moving is not None:
        raise FailedPrecondition(f"a move of customer {customer_id} to {moving!r} is in progress")
    session.add(
        Assignment(
            customer_id=customer.id,
            kind=AssignmentKind.TEAM_CHANGE,
            cr_team_id=team.id,
            status=AssignmentStatus.PENDING,
            requested_at=now,
        )
    )
    audit_customer(
        session, actor, "customer.team_change_requested", customer.id, correlation, to=team_name
    )


def closing_jobs(group: StaffGroup, topic: Topic, told: plan.Content) -> list[plan.Planned]:
    """Say `told` in the topic, then close it (in that order: one destination)."""
    lane = plan.TREATMENT if group.role == GroupRole.TREATMENT else plan.CLIENT_TO_STAFF
    return [
        plan.Planned(
            lane=lane,
            bot_id=topic.bot_id or group.bot_id,  # the topic's bot (bot_pools)
            chat_id=group.id,
            thread_id=topic.message_thread_id,
            content=content,
            topic_id=topic.id,
            reply_to_origin=None,
        )
        for content in (told, plan.Action("close_topic"))
    ]


def _onboarding_request(customer_id: int, now: datetime) -> Assignment:
    return Assignment(
        customer_id=customer_id,
        kind=AssignmentKind.ONBOARDING,
        requested_at=now,
        status=AssignmentStatus.PENDING,
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
