"""A client who is not (or no longer) assigned writes to the client bot: onboarding.

First contact makes a pending customer and asks for the account email. An email goes
to the checker (the directory may be a remote service, never called inside this
transaction); the tries are limited per hour. Anything else the client writes before
their assignment is kept, to be copied into their topics once these exist. A rejected
client is told so, every time, rather than met with silence.

The customer row is read FOR UPDATE: topic set-up makes the customer active under the
same lock, so a line is either kept (and copied by the set-up) or routed to the
topics — never neither.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import AssignmentKind, AssignmentStatus, CustomerStatus
from services.routing.db.models import Assignment, Customer, EmailCheck
from services.routing.domain import inbound
from services.routing.domain.onboarding import Texts, is_command, normalize_email
from services.routing.domain.plan import STAFF_TO_CLIENT, Content, Planned

TRY_WINDOW = timedelta(hours=1)


@dataclass
class Decision:
    """What becomes of one line from a client who is not in a conversation."""

    customer_id: int
    # Keep the line (backed up, no jobs yet): it goes to the topics once they exist.
    keep: bool = False
    # The customer is active after all (set up meanwhile): route the line as usual.
    route: bool = False
    # An email to check: the checker is to be woken once committed.
    check: bool = False
    replies: list[Planned] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    texts: Texts = field(default_factory=Texts)
    tries_per_hour: int = 5


async def decide(
    session: AsyncSession,
    line: inbound.Line,
    *,
    bot_id: int,
    correlation_id: str,
    now: datetime,
    rules: Rules = Rules(),
) -> Decision:
    customer = await session.scalar(
        select(Customer).where(Customer.telegram_user_id == line.sender_id).with_for_update()
    )
    if customer is None:
        customer = Customer(
            telegram_user_id=line.sender_id,
            display_name=(line.sender_name or "Client")[:255],
            username=_from_field(line, "username", 64),
            language_code=_from_field(line, "language_code", 16),
            status=CustomerStatus.PENDING,
        )
        session.add(customer)
        await session.flush()
    decision = Decision(customer.id)

    def say(text: str) -> None:
        decision.replies.append(reply(bot_id, line.sender_id, text))

    texts = rules.texts
    if customer.status in (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED):
        decision.route = True
        return decision
    if customer.status == CustomerStatus.REJECTED:
        say(texts.rejected)
        return decision
    waiting = await open_assignment(session, customer.id)
    if waiting is not None:
        decision.keep = True
        if not waiting.held_notice_sent:
            waiting.held_notice_sent = True
            say(texts.kept_while_pending)
        return decision
    if is_command(line.text, "start"):
        say(texts.ask_email)
        return decision
    email = normalize_email(line.text) if line.media is None else None
    if email is None:
        if line.media is None and "@" in line.text and len(line.text.split()) == 1:
            say(texts.not_an_email)  # a mistyped address, not a line for staff
        else:
            decision.keep = True
            say(texts.kept_before_email)
        return decision
    tries, oldest = await _tries(session, line.sender_id, now)
    if tries >= rules.tries_per_hour:
        wait = (oldest + TRY_WINDOW - now).total_seconds() if oldest else 3600
        say(texts.too_many_tries.format(minutes=max(1, math.ceil(wait / 60))))
        return decision
    session.add(
        EmailCheck(
            telegram_user_id=line.sender_id,
            customer_id=customer.id,
            email=email,
            correlation_id=correlation_id,
            created_at=now,
        )
    )
    decision.check = True
    return decision


async def open_assignment(session: AsyncSession, customer_id: int) -> Assignment | None:
    """The customer's onboarding request still open: waiting for CS, or confirmed with
    its topics still being created."""
    return await session.scalar(
        select(Assignment)
        .where(
            Assignment.customer_id == customer_id,
            Assignment.kind == AssignmentKind.ONBOARDING,
            (Assignment.status == AssignmentStatus.PENDING)
            | ((Assignment.status == AssignmentStatus.CONFIRMED) & (Assignment.topics_pending > 0)),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
        .with_for_update()
    )


async def tries_left(session: AsyncSession, user_id: int, now: datetime, limit: int) -> int:
    return max(0, limit - (await _tries(session, user_id, now))[0])


async def _tries(session: AsyncSession, user_id: int, now: datetime) -> tuple[int, datetime | None]:
    """How many emails the client gave in the last hour, and when the oldest of them."""
    row = (
        await session.execute(
            select(func.count(), func.min(EmailCheck.created_at)).where(
                EmailCheck.telegram_user_id == user_id, EmailCheck.created_at >= now - TRY_WINDOW
            )
        )
    ).one()
    count: int = row[0]
    oldest: datetime | None = row[1]
    return count, oldest


def reply(bot_id: int, user_id: int, text: str) -> Planned:
    """A line from the client bot to a client (no attribution: the bot speaks)."""
    return Planned(
        lane=STAFF_TO_CLIENT,
        bot_id=bot_id,
        chat_id=user_id,
        thread_id=None,
        content=Content("text", text, ()),
        topic_id=None,
        reply_to_origin=None,
    )


def _from_field(line: inbound.Line, name: str, limit: int) -> str | None:
    value = (line.raw.get("from") or {}).get(name) if isinstance(line.raw, dict) else None
    return str(value)[:limit] if value else None
