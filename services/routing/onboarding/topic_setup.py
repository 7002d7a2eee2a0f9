"""A customer's topics come into being: created by delivery one at a time per group
(Telegram limits topic creation), each reported back with its thread. When the last of
an assignment's topics is there (or could not be made), the customer becomes active:
every topic gets the customer's card, then the lines the client wrote before, in
order; the client is welcomed.

Activation takes the customer row FOR UPDATE, the same lock intake holds while it
keeps a line, so no line falls between "kept" and "routed".

`TopicOutcomes` is what wiring registers in the outbox's outcome table for a
customer's create_topic jobs (sent, or failed for good).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import (
    AssignmentKind,
    AssignmentStatus,
    CustomerStatus,
    GroupRole,
    TopicStatus,
)
from services.routing.db.models import Assignment, Customer, Message, StaffGroup, Team, Topic
from services.routing.domain import plan
from services.routing.domain.onboarding import Texts, topic_name
from services.routing.onboarding import prompts
from services.routing.outbox.jobs import LANE_NAMES, Outgoing
from services.routing.outbox.outcomes import Effects, Outcome
from services.routing.records import bot_pools, people
from services.routing.records.message_destinations import kept_content
from switchboard.delivery.v1 import job_pb2

log = logging.getLogger(__name__)


async def create_job(
    session: AsyncSession, group: StaffGroup, customer: Customer, *, notify: StaffGroup | None
) -> plan.Planned:
    """The job that creates the customer's topic in `group`; a failure is told in the
    CS intake (`notify`). The least-loaded bot of the group's pool creates it and speaks
    in it for the topic's life (records.bot_pools)."""
    name = topic_name(customer.display_name, customer.email or "")
    notice = None
    if notify is not None:
        notice = plan.Notice(
            notify.bot_id,
            notify.id,
            notify.intake_thread_id,
            prompts.CS_PROMPTS,
            f"Could not create the topic for {customer.display_name} in {group.title}",
        )
    return plan.Planned(
        lane=plan.TREATMENT if str(group.role) == "treatment" else plan.CLIENT_TO_STAFF,
        bot_id=await bot_pools.least_loaded(session, group),
        chat_id=group.id,
        thread_id=None,
        content=plan.Action("create_topic", name=name, customer_id=customer.id),
        topic_id=None,
        reply_to_origin=None,
        notice=notice,
    )


def for_a_customer(job: job_pb2.DeliveryJob) -> bool:
    """A create_topic job written here: it names the customer the topic is for."""
    return bool(job.create_topic.customer_id)


@dataclass(frozen=True)
class TopicOutcomes:
    """The outcome handlers of a customer's create_topic jobs."""

    texts: Texts

    async def sent(self, session: AsyncSession, outcome: Outcome) -> Effects:
        """Created; without its thread the topic cannot be used: as if it failed, so
        the customer is not left waiting for it."""
        made = outcome.report.created_thread_id
        if made:
            lines = await on_created(session, outcome.job, made, now=outcome.now, texts=self.texts)
        else:
            lines = await on_failed(session, outcome.job, now=outcome.now, texts=self.texts)
        return Effects(jobs=tuple(lines))

    async def failed(self, session: AsyncSession, outcome: Outcome) -> Effects:
        lines = await on_failed(session, outcome.job, now=outcome.now, texts=self.texts)
        return Effects(jobs=tuple(lines))


async def on_created(
    session: AsyncSession,
    proto: job_pb2.DeliveryJob,
    thread_id: int,
    *,
    now: datetime,
    texts: Texts,
) -> list[Outgoing]:
    customer = await session.get(Customer, proto.create_topic.customer_id, with_for_update=True)
    if customer is None:
        return []
    group_id = proto.destination.chat_id
    existing = await session.scalar(
        select(Topic).where(
            Topic.customer_id == customer.id,
            Topic.group_id == group_id,
            Topic.status == TopicStatus.OPEN,
        )
    )
    lane = LANE_NAMES[proto.lane]
    group = await session.get(StaffGroup, group_id)
    # Treatment switched off while its topic was being made: the topic is not wanted.
    unwanted = group is not None and group.role == GroupRole.TREATMENT and not customer.treatment
    if existing is not None or unwanted:
        # A second creation (its first report was lost), or an unwanted one: close it.
        log.warning("stray topic closed", extra={"customer_id": customer.id, "chat_id": group_id})
        stray = plan.Planned(
            lane=lane,
            bot_id=proto.bot_id,
            chat_id=group_id,
            thread_id=thread_id,
            content=plan.Action("close_topic"),
            topic_id=None,
            reply_to_origin=None,
        )
        out = [Outgoing(None, [stray], proto.correlation_id)]
        if existing is None and customer.status == CustomerStatus.PENDING:
            # It was one of the topics the customer waits for: one less to wait for.
            out += await _one_less(
                session, customer, now=now, texts=texts, correlation=proto.correlation_id
            )
        return out
    topic = Topic(
        customer_id=customer.id,
        group_id=group_id,
        message_thread_id=thread_id,
        name=proto.create_topic.name or customer.display_name[:128],
        # The bot that created it speaks in it (the least-loaded of the pool, chosen
        # when the job was written).
        bot_id=proto.bot_id,
        status=TopicStatus.OPEN,
    )
    session.add(topic)
    await session.flush()
    if customer.status in (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED):
        # A topic added to a running conversation (Treatment switched on): its card.
        role = str(group.role) if group else "cs"
        added = plan.StaffTopic(role, group_id, thread_id, proto.bot_id, topic.id)
        card = plan.Content("text", await card_text(session, customer, texts), ())
        return [Outgoing(None, plan.into_topics(card, (added,)), proto.correlation_id)]
    return await _one_less(
        session, customer, now=now, texts=texts, correlation=proto.correlation_id
    )


async def on_failed(
    session: AsyncSession, proto: job_pb2.DeliveryJob, *, now: datetime, texts: Texts
) -> list[Outgoing]:
    """Telegram refused the topic (rights missing…): the failure is told in the intake
    (the job's notice); the customer goes live with the topics that exist."""
    customer = await session.get(Customer, proto.create_topic.customer_id, with_for_update=True)
    if customer is None or customer.status != CustomerStatus.PENDING:
        return []
    return await _one_less(
        session, customer, now=now, texts=texts, correlation=proto.correlation_id
    )


async def _one_less(
    session: AsyncSession, customer: Customer, *, now: datetime, texts: Texts, correlation: str
) -> list[Outgoing]:
    assignment = await session.scalar(
        select(Assignment)
        .where(
            Assignment.customer_id == customer.id,
            Assignment.kind == AssignmentKind.ONBOARDING,
            Assignment.status == AssignmentStatus.CONFIRMED,
            Assignment.topics_pending > 0,
        )
        .with_for_update()
    )
    if assignment is None:
        return []
    assignment.topics_pending -= 1
    if assignment.topics_pending > 0:
        return []
    return await activate(session, customer, texts=texts, correlation=correlation)


async def activate(
    session: AsyncSession, customer: Customer, *, texts: Texts, correlation: str
) -> list[Outgoing]:
    """The customer is live: cards in the topics, the kept lines after them, the client
    welcomed. `customer` is held FOR UPDATE by the caller."""
    customer.status = CustomerStatus.ACTIVE
    await session.flush()
    known = (await people.by_ids(session, {customer.id}))[customer.id]
    bot_id = await people.client_bot_id(session)
    conversation = known.conversation(bot_id or 0)
    card = plan.Content("text", await card_text(session, customer, texts), ())
    out = [Outgoing(None, plan.into_topics(card, known.topics), correlation)]
    kept = (
        await session.scalars(
            select(Message)
            .where(Message.customer_id == customer.id, Message.awaiting_assignment.is_(True))
            .order_by(Message.id)
            .with_for_update()
        )
    ).all()
    for message in kept:
        planned = plan.into_topics(kept_content(message), known.topics)
        if message.reply_to_message_id:
            planned = [replace(p, refers_to=message.reply_to_message_id) for p in planned]
        out.append(
            Outgoing(message.id, [q for p in planned for q in plan.in_parts(p)], correlation)
        )
    if kept:
        await session.execute(
            update(Message)
            .where(Message.id.in_([m.id for m in kept]))
            .values(awaiting_assignment=False)
        )
    team = await session.get(Team, customer.cr_team_id) if customer.cr_team_id else None
    welcome = texts.welcome_client.format(**_fields(customer, team, ""))
    if bot_id is not None:
        out.append(
            Outgoing(
                None, [plan.to_client(plan.Content("text", welcome, ()), conversation)], correlation
            )
        )
    log.info(
        "customer active",
        extra={"customer_id": customer.id, "kept_lines": len(kept), "topics": len(known.topics)},
    )
    return out


async def card_text(session: AsyncSession, customer: Customer, texts: Texts) -> str:
    team = await session.get(Team, customer.cr_team_id) if customer.cr_team_id else None
    decided = await session.scalar(
        select(Assignment.decided_by_name)
        .where(
            Assignment.customer_id == customer.id,
            Assignment.status == AssignmentStatus.CONFIRMED,
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    return texts.welcome_staff.format(**_fields(customer, team, decided or "—"))


def _fields(customer: Customer, team: Team | None, confirmed_by: str) -> dict[str, str]:
    return {
        "name": customer.display_name,
        "email": customer.email or "—",
        "team": team.name if team else "—",
        "treatment": "yes" if customer.treatment else "no",
        "confirmed_by": confirmed_by,
    }
