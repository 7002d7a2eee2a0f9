"""Customers and their topics, created directly until onboarding exists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import AlreadyExists, InvalidArgument, NotFound
from services.routing.db.enums import CustomerStatus, TopicStatus
from services.routing.db.models import Customer, StaffGroup, Team, Topic


@dataclass(frozen=True)
class NewTopic:
    chat_id: int
    thread_id: int
    name: str


async def create(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    display_name: str,
    email: str,
    cr_team: str,
    treatment: bool,
    topics: list[NewTopic],
) -> Customer:
    if telegram_user_id <= 0:
        raise InvalidArgument("telegram_user_id must be a positive Telegram user id")
    if not display_name.strip():
        raise InvalidArgument("display_name must not be empty")
    taken = await session.execute(
        select(Customer.id).where(Customer.telegram_user_id == telegram_user_id)
    )
    if taken.scalar_one_or_none() is not None:
        raise AlreadyExists(f"a customer with Telegram user {telegram_user_id} exists")
    team_id = None
    if cr_team:
        team = (
            await session.execute(select(Team).where(Team.name == cr_team))
        ).scalar_one_or_none()
        if team is None:
            raise NotFound(f"no CR team named {cr_team!r}")
        team_id = team.id
    customer = Customer(
        telegram_user_id=telegram_user_id,
        display_name=display_name.strip(),
        email=email or None,
        status=CustomerStatus.ACTIVE,
        cr_team_id=team_id,
        treatment=treatment,
    )
    session.add(customer)
    await session.flush()
    for topic in topics:
        if await session.get(StaffGroup, topic.chat_id) is None:
            raise NotFound(f"no staff group with chat id {topic.chat_id}")
        session.add(
            Topic(
                customer_id=customer.id,
                group_id=topic.chat_id,
                message_thread_id=topic.thread_id,
                name=topic.name[:128] or display_name[:128],
                status=TopicStatus.OPEN,
            )
        )
    await session.flush()
    return customer


async def find(session: AsyncSession, *, customer_id: int = 0, telegram_user_id: int = 0):
    """The customer and their topics with the groups' roles."""
    query = select(Customer)
    query = (
        query.where(Customer.id == customer_id)
        if customer_id
        else query.where(Customer.telegram_user_id == telegram_user_id)
    )
    customer = (await session.execute(query)).scalar_one_or_none()
    if customer is None:
        raise NotFound("no such customer")
    rows = await session.execute(
        select(Topic, StaffGroup)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.customer_id == customer.id)
        .order_by(Topic.id)
    )
    team = await session.get(Team, customer.cr_team_id) if customer.cr_team_id else None
    return customer, [(t, g) for t, g in rows.all()], team
