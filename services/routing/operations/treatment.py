"""Treatment switched on or off for a customer (operations API, or `/treatment on|off`
in the customer's CS topic).

On: a topic in the Treatment group is created (its card says why) and, once there, it
is one of the customer's topics that lines go to — the Treatment bot and lane carry
its traffic, the mirroring includes it. Off: no new line goes to the topic from then
on, and it is closed after what was already on its way to it. The topic is created
as onboarding's topic set-up creates the others (`OnboardingSteps`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import FailedPrecondition
from services.routing.db.column_types import utcnow
from services.routing.db.enums import CustomerStatus, GroupRole, TopicStatus
from services.routing.db.models import Customer, StaffGroup, Topic
from services.routing.domain import plan
from services.routing.operations.assignment import closing_jobs
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people
from services.routing.records.audit import Actor, audit_customer

ON = "🩺 Treatment switched on by {by}."
OFF = "Treatment switched off by {by}; the Treatment topic is closed."


async def set_treatment(
    session: AsyncSession,
    customer: Customer,
    on: bool,
    actor: Actor,
    *,
    onboarding: OnboardingSteps,
    correlation: str = "",
) -> list[Outgoing]:
    """`customer` is held FOR UPDATE by the caller. Switching to the state it is in
    changes nothing (and tells no one); to retry a topic Telegram refused, switch off
    and on again."""
    topic = await session.scalar(
        select(Topic)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(
            Topic.customer_id == customer.id,
            Topic.status == TopicStatus.OPEN,
            StaffGroup.role == GroupRole.TREATMENT,
        )
    )
    if (on and customer.treatment) or (not on and not customer.treatment and topic is None):
        return []  # on already (its topic there or on its way), or off already
    group: StaffGroup | None = None
    if on and topic is None and customer.status != CustomerStatus.PENDING:
        # Checked before anything changes: `/treatment on` answers the refusal in the
        # topic and its transaction commits, so a change made first would stay.
        group = await onboarding.group_of(session, GroupRole.TREATMENT)
        if group is None:
            raise FailedPrecondition("no Treatment group is set up (add one in the registry)")
    customer.treatment = on
    action = "customer.treatment_on" if on else "customer.treatment_off"
    audit_customer(session, actor, action, customer.id, correlation)
    if customer.status == CustomerStatus.PENDING:
        return []  # the topic comes with the assignment
    lines: list[Outgoing] = []
    told = plan.Content("text", (ON if on else OFF).format(by=actor.name), ())
    cs = [p for p in await _places(session, customer.id) if p.role == "cs"]
    if on and topic is None and group is not None:
        notify = await onboarding.group_of(session, GroupRole.CS)
        create = await onboarding.topic_job(session, group, customer, notify=notify)
        lines.append(Outgoing(None, [create], correlation))
    elif not on and topic is not None:
        topic.status, topic.closed_at = TopicStatus.CLOSED, utcnow()
        treatment_group = await session.get_one(StaffGroup, topic.group_id)
        lines.append(Outgoing(None, closing_jobs(treatment_group, topic, told), correlation))
    lines.append(Outgoing(None, plan.into_topics(told, tuple(cs)), correlation))
    return lines


async def _places(session: AsyncSession, customer_id: int) -> tuple[plan.StaffTopic, ...]:
    known = (await people.by_ids(session, {customer_id})).get(customer_id)
    return known.topics if known else ()
