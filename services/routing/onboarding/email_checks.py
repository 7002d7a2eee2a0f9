"""What the directory said about a client's email, acted on: a known account opens an
assignment request (the client is told, CS is prompted); an unknown one is answered
with the tries left; a directory that could not answer is asked again later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import (
    AssignmentKind,
    AssignmentStatus,
    CustomerStatus,
    EmailCheckResult,
)
from services.routing.db.models import Assignment, AuditEntry, Customer, EmailCheck
from services.routing.onboarding import intake, prompts
from services.routing.onboarding.directory import Account
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people

RETRY_CAP = timedelta(seconds=60)


@dataclass(frozen=True)
class Pending:
    check_id: int
    email: str
    correlation_id: str = ""


async def due(session: AsyncSession, *, now: datetime, limit: int = 20) -> list[Pending]:
    rows = await session.execute(
        select(EmailCheck.id, EmailCheck.email, EmailCheck.correlation_id)
        .where(
            EmailCheck.result == EmailCheckResult.PENDING,
            or_(EmailCheck.retry_at.is_(None), EmailCheck.retry_at <= now),
        )
        .order_by(EmailCheck.id)
        .limit(limit)
    )
    return [Pending(check_id, email, cid or "") for check_id, email, cid in rows.all()]


async def next_retry(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(EmailCheck.retry_at)
        .where(EmailCheck.result == EmailCheckResult.PENDING, EmailCheck.retry_at.is_not(None))
        .order_by(EmailCheck.retry_at)
        .limit(1)
    )


async def resolve(
    session: AsyncSession,
    check_id: int,
    account: Account | None,
    *,
    now: datetime,
    rules: intake.Rules,
) -> list[Outgoing]:
    """Record the directory's answer (account None: unknown) and answer the jobs."""
    check = await session.get(EmailCheck, check_id, with_for_update=True)
    if check is None or check.result != EmailCheckResult.PENDING:
        return []
    check.result = EmailCheckResult.KNOWN if account else EmailCheckResult.UNKNOWN
    check.checked_at, check.retry_at = now, None
    customer = await session.get(Customer, check.customer_id, with_for_update=True)
    bot_id = await people.client_bot_id(session)
    if customer is None or bot_id is None:
        return []
    texts = rules.texts
    if account is None:
        left = await intake.tries_left(session, check.telegram_user_id, now, rules.tries_per_hour)
        return [
            Outgoing(
                None,
                [
                    intake.reply(
                        bot_id,
                        customer.telegram_user_id,
                        texts.unknown_email.format(email=check.email, left=_tries(left)),
                    )
                ],
                check.correlation_id or "",
            )
        ]
    if customer.status != CustomerStatus.PENDING or await intake.open_assignment(
        session, customer.id
    ):
        return []  # a second address while the first is being handled: nothing new
    customer.email, customer.external_id = check.email, account.external_id or None
    customer.display_name, customer.treatment = account.full_name, account.treatment
    assignment = Assignment(
        customer_id=customer.id,
        kind=AssignmentKind.ONBOARDING,
        status=AssignmentStatus.PENDING,
        requested_at=now,
    )
    session.add(assignment)
    session.add(
        AuditEntry(
            actor_kind="client",
            actor_id=str(customer.telegram_user_id),
            action="customer.email_verified",
            target_kind="customer",
            target_id=str(customer.id),
            details={"email": check.email},
            result="ok",
            correlation_id=check.correlation_id,
        )
    )
    await session.flush()
    welcome = intake.reply(
        bot_id, customer.telegram_user_id, texts.found.format(name=account.full_name)
    )
    correlation = check.correlation_id or ""
    return [
        Outgoing(None, [welcome], correlation),
        *await prompts.prompt(session, customer, assignment, correlation=correlation),
    ]


async def unavailable(
    session: AsyncSession, check_id: int, *, now: datetime, rules: intake.Rules
) -> list[Outgoing]:
    """The directory could not answer: try again later (backing off), and tell the
    client once that it takes longer."""
    check = await session.get(EmailCheck, check_id, with_for_update=True)
    if check is None or check.result != EmailCheckResult.PENDING:
        return []
    check.attempts += 1
    check.retry_at = now + min(RETRY_CAP, timedelta(seconds=2 ** min(check.attempts, 6)))
    bot_id = await people.client_bot_id(session)
    if check.attempts != 1 or bot_id is None:
        return []
    told = intake.reply(bot_id, check.telegram_user_id, rules.texts.directory_down)
    return [Outgoing(None, [told], check.correlation_id or "")]


def _tries(left: int) -> str:
    return "1 try" if left == 1 else f"{left} tries"
