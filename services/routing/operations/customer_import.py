"""Importing a customer already served elsewhere (OperationsService.ImportCustomer): a
client moving to Switchboard with their conversation under way, so they skip
onboarding — active at once, in their CR team if they have one, with the forum topics
the staff groups already have for them.

Nothing is sent and no topic is created: the next line the client writes goes to these
topics as any active customer's does, so a topic in the CS group is required. Every
refusal names the field and comes before anything is written; the audit entry goes in
the import's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import AlreadyExists, InvalidArgument, NotFound
from services.routing.db.enums import CustomerStatus, GroupRole, TopicStatus
from services.routing.db.models import Customer, StaffGroup, Team, Topic
from services.routing.domain.onboarding import topic_name
from services.routing.operations import fields
from services.routing.operations.directory_import import normal_email
from services.routing.records import bot_pools
from services.routing.records.audit import Actor, audit_customer
from switchboard.operations.v1 import operations_pb2

NAME_LENGTH = 255  # customers.display_name
TOPIC_NAME_LENGTH = 128  # topics.name


async def import_customer(
    session: AsyncSession,
    request: operations_pb2.ImportCustomerRequest,
    actor: Actor,
    *,
    correlation: str = "",
) -> int:
    """Add the customer and their topics as `request` describes them, with the audit
    entry; answers the new customer's id."""
    user_id = fields.positive(request.telegram_user_id, field="telegram_user_id")
    name = fields.text(request.display_name, field="display_name", max_length=NAME_LENGTH)
    email = normal_email(request.email) if request.email.strip() else None
    taken = await session.scalar(select(Customer.id).where(Customer.telegram_user_id == user_id))
    if taken is not None:
        raise AlreadyExists(f"Telegram user {user_id} is customer {taken} already")
    team_name = request.cr_team.strip()
    team = await _team(session, team_name) if team_name else None
    groups = await _topic_groups(session, request.topics, team, treatment=request.treatment)
    topic_names = [
        fields.text(given.name, field="topics.name", max_length=TOPIC_NAME_LENGTH, required=False)
        or topic_name(name, email or "")
        for given in request.topics
    ]
    customer = Customer(
        telegram_user_id=user_id,
        display_name=name,
        email=email,
        status=CustomerStatus.ACTIVE,
        cr_team_id=team.id if team is not None else None,
        treatment=request.treatment,
    )
    session.add(customer)
    await session.flush()
    for given, group, named in zip(request.topics, groups, topic_names, strict=True):
        session.add(
            Topic(
                customer_id=customer.id,
                group_id=group.id,
                message_thread_id=given.message_thread_id,
                name=named,
                # Switchboard's bots have said nothing there yet: the least-loaded bot
                # of the group's pool takes the topic (one topic per group here).
                bot_id=await bot_pools.least_loaded(session, group),
                status=TopicStatus.OPEN,
            )
        )
    audit_customer(
        session,
        actor,
        "customer.import",
        customer.id,
        correlation,
        cr_team=team.name if team is not None else "",
        treatment=request.treatment,
        topics=[[g.id, t.message_thread_id] for t, g in zip(request.topics, groups, strict=True)],
    )
    await session.flush()
    return customer.id


async def _team(session: AsyncSession, name: str) -> Team:
    team = await session.scalar(select(Team).where(Team.name == name, Team.active.is_(True)))
    if team is None:
        raise NotFound(f"cr_team: no active CR team named {name!r}")
    return team


async def _topic_groups(
    session: AsyncSession,
    topics: Sequence[operations_pb2.ExistingTopic],
    team: Team | None,
    *,
    treatment: bool,
) -> list[StaffGroup]:
    """The staff group of each topic, in order, once each topic is known to fit: an
    active registered group, one topic per group, a CR group only the customer's team's,
    a Treatment group only with treatment, a thread no other customer's topic is."""
    groups: list[StaffGroup] = []
    for given in topics:
        fields.positive(given.message_thread_id, field="topics.message_thread_id")
        group = await session.get(StaffGroup, given.chat_id)
        if group is None or not group.active:
            raise NotFound(f"topics.chat_id: no active staff group with chat id {given.chat_id}")
        if any(g.id == group.id for g in groups):
            raise InvalidArgument(f"topics.chat_id: group {group.id} is given more than once")
        if group.role == GroupRole.CR and (team is None or group.team_id != team.id):
            raise InvalidArgument(
                f"topics.chat_id: group {group.id} is another CR team's, not the customer's"
                f" ({team.name if team is not None else 'no cr_team given'})"
            )
        if group.role == GroupRole.TREATMENT and not treatment:
            raise InvalidArgument(f"topics.chat_id: group {group.id} is Treatment's; set treatment")
        owner = await session.scalar(
            select(Topic.customer_id).where(
                Topic.group_id == group.id, Topic.message_thread_id == given.message_thread_id
            )
        )
        if owner is not None:
            raise AlreadyExists(
                f"topics: thread {given.message_thread_id} in group {group.id} is"
                f" customer {owner}'s topic"
            )
        groups.append(group)
    if not any(g.role == GroupRole.CS for g in groups):
        # Every client line goes to the CS topic first: without one it would go nowhere.
        raise InvalidArgument("topics: a topic in the CS group is required")
    return groups
