"""Deciding an onboarding request: confirm with a CR team, or reject — by a CS member
pressing a prompt's button, or by an operator through the API.

Deciding is one conditional UPDATE (status pending → confirmed/rejected): two presses
at once, a double press, a stale button or a reject after a confirm make exactly one
outcome; the others learn who decided first. Everything a decision sets off (topics,
the client's answer, the audit) is written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import (
    AssignmentKind,
    AssignmentStatus,
    CustomerStatus,
    GroupRole,
    TopicStatus,
)
from services.routing.db.models import Assignment, Customer, Team, Topic
from services.routing.domain.onboarding import Texts
from services.routing.onboarding import intake, prompts, topic_setup
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people
from services.routing.records.audit import Actor, audit_customer

__all__ = ["Actor", "Outcome", "confirm", "reject"]


@dataclass
class Outcome:
    done: bool
    lines: list[Outgoing] = field(default_factory=list)
    # Not done: why (who decided first, or what is missing).
    reason: str = ""
    customer_name: str = ""
    team: str = ""


WHAT = {
    AssignmentStatus.CONFIRMED: "confirmed",
    AssignmentStatus.REJECTED: "rejected",
    AssignmentStatus.CANCELLED: "withdrawn",
}


async def confirm(
    session: AsyncSession,
    assignment_id: int,
    team_id: int,
    actor: Actor,
    *,
    now: datetime,
    texts: Texts,
    correlation: str = "",
) -> Outcome:
    team = await session.get(Team, team_id)
    group = await prompts.group_of(session, GroupRole.CR, team_id) if team else None
    if team is None or not team.active or group is None:
        return Outcome(False, reason="That CR team is not available any more; choose another.")
    await _lock_customer(session, assignment_id)
    if not await _take(session, assignment_id, AssignmentStatus.CONFIRMED, actor, now, team_id):
        return await _already(session, assignment_id)
    assignment, customer = await _taken(session, assignment_id)
    customer.cr_team_id = team.id
    groups = [await prompts.group_of(session, GroupRole.CS), group]
    if customer.treatment:
        groups.append(await prompts.group_of(session, GroupRole.TREATMENT))
    have = set(
        await session.scalars(
            select(Topic.group_id).where(
                Topic.customer_id == customer.id, Topic.status == TopicStatus.OPEN
            )
        )
    )
    wanted = [g for g in groups if g is not None and g.id not in have]
    notify = groups[0]
    creates = [await topic_setup.create_job(session, g, customer, notify=notify) for g in wanted]
    assignment.topics_pending = len(creates)
    audit_customer(
        session,
        actor,
        "customer.confirm",
        customer.id,
        correlation,
        team=team.name,
        assignment_id=assignment_id,
    )
    await session.flush()
    footer = f"✅ Confirmed by {actor.name} → {team.name}"
    lines = await prompts.decided(session, assignment, footer, correlation=correlation)
    if creates:
        lines.append(Outgoing(None, creates, correlation))
    else:  # every topic is there already (an unassigned customer, back)
        lines += await topic_setup.activate(session, customer, texts=texts, correlation=correlation)
    return Outcome(True, lines, customer_name=customer.display_name, team=team.name)


async def reject(
    session: AsyncSession,
    assignment_id: int,
    actor: Actor,
    *,
    now: datetime,
    texts: Texts,
    correlation: str = "",
) -> Outcome:
    await _lock_customer(session, assignment_id)
    if not await _take(session, assignment_id, AssignmentStatus.REJECTED, actor, now, None):
        return await _already(session, assignment_id)
    assignment, customer = await _taken(session, assignment_id)
    customer.status = CustomerStatus.REJECTED
    audit_customer(
        session, actor, "customer.reject", customer.id, correlation, assignment_id=assignment_id
    )
    bot_id = await people.client_bot_id(session)
    footer = f"❌ Rejected by {actor.name}"
    lines = await prompts.decided(session, assignment, footer, correlation=correlation)
    if bot_id is not None:
        told = intake.reply(bot_id, customer.telegram_user_id, texts.rejected)
        lines.append(Outgoing(None, [told], correlation))
    return Outcome(True, lines, customer_name=customer.display_name)


async def _lock_customer(session: AsyncSession, assignment_id: int) -> None:
    """The customer's row before the request's, the order intake and topic set-up lock
    them in: the decision's UPDATE would otherwise take the customer's row after the
    request's (through the foreign key check of its index), and a client line kept at
    that moment would deadlock with it on MySQL."""
    customer_id = await session.scalar(
        select(Assignment.customer_id).where(Assignment.id == assignment_id)
    )
    if customer_id is not None:
        await session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()
        )


async def _take(
    session: AsyncSession,
    assignment_id: int,
    status: AssignmentStatus,
    actor: Actor,
    now: datetime,
    team_id: int | None,
) -> bool:
    """Decide it if nobody has: the row lock makes a concurrent decision wait, then see
    the status it set and match nothing."""
    values = {
        "status": status,
        "decided_at": now,
        "decided_by_kind": actor.kind,
        "decided_by_id": actor.id[:64],
        "decided_by_name": actor.name[:255],
    }
    if team_id is not None:
        values["cr_team_id"] = team_id
    statement = (
        update(Assignment)
        .where(
            Assignment.id == assignment_id,
            Assignment.kind == AssignmentKind.ONBOARDING,
            Assignment.status == AssignmentStatus.PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE's result is a cursor's: it says how many rows matched.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def _taken(session: AsyncSession, assignment_id: int) -> tuple[Assignment, Customer]:
    """The request just decided, and its customer (held FOR UPDATE)."""
    assignment = await session.get(Assignment, assignment_id, populate_existing=True)
    customer = (
        await session.get(Customer, assignment.customer_id, with_for_update=True)
        if assignment is not None
        else None
    )
    if assignment is None or customer is None:  # the UPDATE that decided it found both
        raise LookupError(f"onboarding request {assignment_id} vanished while decided")
    return assignment, customer


async def _already(session: AsyncSession, assignment_id: int) -> Outcome:
    assignment = await session.get(Assignment, assignment_id, populate_existing=True)
    if assignment is None or assignment.kind != AssignmentKind.ONBOARDING:
        return Outcome(False, reason="This request is no longer open.")
    customer = await session.get(Customer, assignment.customer_id)
    team = await session.get(Team, assignment.cr_team_id) if assignment.cr_team_id else None
    what = WHAT.get(assignment.status, str(assignment.status))
    if assignment.status == AssignmentStatus.CONFIRMED and team is not None:
        what += f" → {team.name}"
    by = assignment.decided_by_name or "someone else"
    return Outcome(
        False,
        reason=f"Already handled by {by} ({what}).",
        customer_name=customer.display_name if customer else "",
        team=team.name if team else "",
    )
