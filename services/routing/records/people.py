"""Who a batch's lines belong to: the customers, their current topics, the staff authors.

Looked up for the whole batch at once — a handful of queries however many lines —
because per-line queries were most of routing's CPU per update (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import BotRole, CustomerStatus, TopicStatus
from services.routing.db.models import Bot, Customer, Staff, StaffGroup, Topic
from services.routing.domain.plan import Author, Conversation, StaffTopic

log = logging.getLogger(__name__)
# Jobs are written CS first, then CR, then Treatment (the order staff expect).
ROLE_ORDER = {"cs": 0, "cr": 1, "treatment": 2}


@dataclass(frozen=True)
class Known:
    """A customer and their current topics, as the batch found them."""

    customer_id: int
    telegram_user_id: int
    active: bool
    topics: tuple[StaffTopic, ...]
    blocked: bool = False

    def conversation(self, client_bot_id: int) -> Conversation:
        return Conversation(self.customer_id, self.telegram_user_id, client_bot_id, self.topics)


CLIENT_BOT = select(Bot.id).where(Bot.role == BotRole.CLIENT, Bot.active.is_(True)).limit(1)
# A customer with their open topics; built once, filtered by Telegram user or by id.
_WITH_TOPICS = (
    select(
        Customer.id,
        Customer.telegram_user_id,
        Customer.status,
        Topic.id,
        Topic.message_thread_id,
        StaffGroup.id,
        StaffGroup.role,
        # The bot that speaks in the topic (its own; before pools, its group's).
        func.coalesce(Topic.bot_id, StaffGroup.bot_id),
    )
    .select_from(Customer)
    .outerjoin(Topic, (Topic.customer_id == Customer.id) & (Topic.status == TopicStatus.OPEN))
    .outerjoin(StaffGroup, StaffGroup.id == Topic.group_id)
    .order_by(Customer.id, Topic.id)
)
BY_USER = _WITH_TOPICS.where(Customer.telegram_user_id.in_(bindparam("ids", expanding=True)))
BY_ID = _WITH_TOPICS.where(Customer.id.in_(bindparam("ids", expanding=True)))
OPEN_TOPICS = select(Topic.group_id, Topic.message_thread_id, Topic.id, Topic.customer_id).where(
    tuple_(Topic.group_id, Topic.message_thread_id).in_(bindparam("threads", expanding=True)),
    Topic.status == TopicStatus.OPEN,
)


async def client_bot_id(session: AsyncSession) -> int | None:
    return (await session.execute(CLIENT_BOT)).scalar_one_or_none()


async def _customers(
    session: AsyncSession, query: Select[*tuple[Any, ...]], ids: Collection[int]
) -> dict[int, Known]:
    """Customers found by `query` for `ids`, with their open topics, by customer id."""
    rows = await session.execute(query, {"ids": list(ids)})
    found: dict[int, tuple[int, str, list[StaffTopic]]] = {}
    for cid, user_id, status, topic_id, thread, group_id, role, bot_id in rows.all():
        _, _, topics = found.setdefault(cid, (user_id, status, []))
        if topic_id is not None and group_id is not None:
            topics.append(StaffTopic(str(role), group_id, thread, bot_id, topic_id))
    return {
        cid: Known(
            cid,
            user_id,
            status == CustomerStatus.ACTIVE,
            _ordered(topics),
            blocked=status == CustomerStatus.BLOCKED,
        )
        for cid, (user_id, status, topics) in found.items()
    }


def _ordered(topics: list[StaffTopic]) -> tuple[StaffTopic, ...]:
    return tuple(sorted(topics, key=lambda p: ROLE_ORDER.get(p.role, len(ROLE_ORDER))))


async def for_clients(session: AsyncSession, user_ids: Collection[int]) -> dict[int, Known]:
    """The customers writing to the client bot, by Telegram user id: the active ones,
    and the blocked ones too (a client who writes has unblocked the bot, whatever the
    order Telegram's updates about it arrive in: the line is not dropped)."""
    if not user_ids:
        return {}
    known = await _customers(session, BY_USER, set(user_ids))
    return {k.telegram_user_id: k for k in known.values() if k.active or k.blocked}


async def by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Known]:
    """Customers by id with their open topics."""
    return await _customers(session, BY_ID, set(ids)) if ids else {}


async def for_topics(
    session: AsyncSession, threads: Collection[tuple[int, int]]
) -> dict[tuple[int, int], tuple[Known, StaffTopic]]:
    """The conversation whose current topic each (group, thread) is, and that topic."""
    if not threads:
        return {}
    topics = (await session.execute(OPEN_TOPICS, {"threads": list(set(threads))})).all()
    if not topics:
        return {}
    known = await _customers(session, BY_ID, {t.customer_id for t in topics})
    out = {}
    for group_id, thread, topic_id, customer_id in topics:
        customer = known.get(customer_id)
        source = (
            next((p for p in customer.topics if p.topic_id == topic_id), None) if customer else None
        )
        if customer is not None and source is not None:
            out[(group_id, thread)] = (customer, source)
    return out


async def groups(session: AsyncSession, ids: Collection[int]) -> dict[int, StaffGroup]:
    if not ids:
        return {}
    rows = await session.scalars(select(StaffGroup).where(StaffGroup.id.in_(set(ids))))
    return {g.id: g for g in rows}


async def staff_names(session: AsyncSession, user_ids: Collection[int]) -> dict[int, Author]:
    """The staff registry's name and role of each of these Telegram users who are in it."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(Staff.telegram_user_id, Staff.display_name, Staff.role_label).where(
            Staff.telegram_user_id.in_(set(user_ids)), Staff.active.is_(True)
        )
    )
    return {user_id: Author(name, role) for user_id, name, role in rows.all()}


def author(known: dict[int, Author], *, user_id: int, name: str, group_role: str) -> Author:
    """Someone not in the staff registry keeps their Telegram name and takes the role of
    the group they wrote in."""
    found = known.get(user_id)
    if found is None:
        # Operations add people to the registry; until then they show as Telegram has them.
        log.warning(
            "staff sender not in the registry", extra={"user_id": user_id, "group_role": group_role}
        )
        return Author(name or "Staff", group_role.upper())
    return found
