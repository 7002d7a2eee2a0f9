"""Who a line belongs to: the customer, their current topics, and the staff author."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import BotRole, CustomerStatus, TopicStatus
from services.routing.db.models import Bot, Customer, Staff, StaffGroup, Topic
from services.routing.domain.plan import Author, Conversation, Place

# Jobs are written CS first, then CR, then Treatment (the order staff expect).
ROLE_ORDER = {"cs": 0, "cr": 1, "treatment": 2}


async def client_bot_id(session: AsyncSession) -> int | None:
    found = await session.execute(
        select(Bot.id).where(Bot.role == BotRole.CLIENT, Bot.active.is_(True)).limit(1)
    )
    return found.scalar_one_or_none()


async def _places(session: AsyncSession, customer_id: int) -> tuple[Place, ...]:
    rows = await session.execute(
        select(Topic, StaffGroup)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.customer_id == customer_id, Topic.status == TopicStatus.OPEN)
        .order_by(Topic.id)
    )
    places = [
        Place(str(group.role), group.id, topic.message_thread_id, group.bot_id, topic.id)
        for topic, group in rows.all()
    ]
    return tuple(sorted(places, key=lambda p: ROLE_ORDER.get(p.role, len(ROLE_ORDER))))


async def for_client(
    session: AsyncSession, *, bot_id: int, user_id: int
) -> tuple[Customer, Conversation] | None:
    """The conversation of the client writing to the client bot, if they have one."""
    customer = (
        await session.execute(select(Customer).where(Customer.telegram_user_id == user_id))
    ).scalar_one_or_none()
    if customer is None or customer.status != CustomerStatus.ACTIVE:
        return None
    places = await _places(session, customer.id)
    return customer, Conversation(customer.id, user_id, bot_id, places)


async def for_topic(
    session: AsyncSession, *, group_id: int, thread_id: int
) -> tuple[Customer, Conversation, Place] | None:
    """The conversation whose current topic this is, and that topic as a Place."""
    topic = (
        await session.execute(
            select(Topic).where(
                Topic.group_id == group_id,
                Topic.message_thread_id == thread_id,
                Topic.status == TopicStatus.OPEN,
            )
        )
    ).scalar_one_or_none()
    if topic is None:
        return None
    customer = await session.get(Customer, topic.customer_id)
    client_bot = await client_bot_id(session)
    if customer is None or client_bot is None:
        return None
    places = await _places(session, customer.id)
    source = next((p for p in places if p.topic_id == topic.id), None)
    if source is None:
        return None
    conversation = Conversation(customer.id, customer.telegram_user_id, client_bot, places)
    return customer, conversation, source


async def author(session: AsyncSession, *, user_id: int, name: str, group_role: str) -> Author:
    """The staff registry's name and role; someone not in it keeps their Telegram name
    and takes the role of the group they wrote in."""
    staff = (
        await session.execute(
            select(Staff).where(Staff.telegram_user_id == user_id, Staff.active.is_(True))
        )
    ).scalar_one_or_none()
    if staff is not None:
        return Author(staff.display_name, staff.role_label)
    return Author(name or "Staff", group_role.upper())
