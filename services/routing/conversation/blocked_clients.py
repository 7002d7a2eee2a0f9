"""A client who blocks the client bot: the customer is marked blocked and staff are
told once in each topic; unblocking marks them active again, and staff are told.

Telegram says so twice over: a `my_chat_member` update (status "kicked" / "member")
and a 403 "bot was blocked by the user" on a send. Either may come first; only the
change of status writes the notices, so staff hear it once. Staff lines written while
the client is blocked are kept (backed up, their jobs recorded as failed with
Telegram's description) for the audit.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.handlers import Event
from services.routing.db.enums import CustomerStatus
from services.routing.db.models import AuditEntry, Customer
from services.routing.domain.inbound import JsonObject
from services.routing.domain.plan import Content, Planned
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people

log = logging.getLogger(__name__)
BLOCKED = "⛔ {name} blocked the bot. Replies are kept but not delivered until they unblock it."
UNBLOCKED = "✅ {name} unblocked the bot: replies reach them again."


async def set_blocked(
    session: AsyncSession, telegram_user_id: int, *, blocked: bool, via: str, correlation_id: str
) -> list[Planned]:
    """Mark the customer with this Telegram account; the notices for staff when that
    changed their status (none otherwise)."""
    customer = await session.scalar(
        select(Customer).where(Customer.telegram_user_id == telegram_user_id).with_for_update()
    )
    if customer is None:
        return []
    before, after = (
        (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED)
        if blocked
        else (CustomerStatus.BLOCKED, CustomerStatus.ACTIVE)
    )
    if customer.status != before:
        return []
    customer.status = after
    session.add(
        AuditEntry(
            actor_kind="client",
            actor_id=str(telegram_user_id),
            action="customer.block" if blocked else "customer.unblock",
            target_kind="customer",
            target_id=str(customer.id),
            details={"via": via},
            correlation_id=correlation_id,
        )
    )
    log.info(
        "client %s the bot",
        "blocked" if blocked else "unblocked",
        extra={"customer_id": customer.id, "via": via},
    )
    known = (await people.by_ids(session, {customer.id})).get(customer.id)
    text = (BLOCKED if blocked else UNBLOCKED).format(name=customer.display_name)
    return [
        Planned(
            lane=topic.lane,
            bot_id=topic.bot_id,
            chat_id=topic.chat_id,
            thread_id=topic.thread_id,
            content=Content("text", text, ()),
            topic_id=topic.topic_id,
            reply_to_origin=None,
        )
        for topic in (known.topics if known else ())
    ]


async def on_membership(session: AsyncSession, event: Event) -> list[Outgoing]:
    """A client blocked or unblocked the bot in their private chat (the MEMBERSHIP
    handler)."""
    change = membership_change(event.update.raw)
    if change is None:
        return []
    user_id, blocked = change
    planned = await set_blocked(
        session,
        user_id,
        blocked=blocked,
        via="my_chat_member",
        correlation_id=event.correlation_id,
    )
    return [Outgoing(None, planned, event.correlation_id)] if planned else []


async def on_wrote_again(session: AsyncSession, event: Event) -> list[Outgoing]:
    """A blocked client wrote a line: they have unblocked the bot (the UNBLOCKED
    handler)."""
    planned = await set_blocked(
        session,
        event.user_id,
        blocked=False,
        via="wrote again",
        correlation_id=event.correlation_id,
    )
    return [Outgoing(None, planned, event.correlation_id)] if planned else []


def membership_change(update: JsonObject) -> tuple[int, bool] | None:
    """(the user, blocked?) when a `my_chat_member` update says a client blocked or
    unblocked the bot in their private chat."""
    event = update.get("my_chat_member")
    if not isinstance(event, dict) or (event.get("chat") or {}).get("type") != "private":
        return None
    user_id = (event.get("from") or {}).get("id")
    status = (event.get("new_chat_member") or {}).get("status")
    if not isinstance(user_id, int) or status not in ("kicked", "member"):
        return None
    return user_id, status == "kicked"
