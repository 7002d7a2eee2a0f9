"""The email checker: asks the directory about the emails clients gave, outside any
transaction (a directory service may be slow or down), then records each answer and
its jobs in a transaction of its own.

It is woken when a batch records an email, and otherwise looks again when a retry is
due (at most every `idle` seconds): a check left pending by a restart is picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.db.transient import retrying, transient
from services.routing.onboarding import email_checks, intake
from services.routing.onboarding.directory import Directory, DirectoryUnavailable
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import write_jobs
from services.routing.outbox.relay import Relay

log = logging.getLogger(__name__)


class EmailChecker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Directory,
        relay: Relay,
        *,
        rules: intake.Rules | None = None,
        idle: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.relay = relay
        self.rules = rules or intake.Rules()
        self.idle = idle
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                wait = await self.pass_once()
            except Exception as error:  # keep checking; the next pass retries what is pending
                if transient(error) == "down":  # one line per pass while it is away
                    log.warning("email check pass failed", extra={"error": type(error).__name__})
                else:
                    log.exception("email check pass failed")
                wait = self.idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def pass_once(self) -> float:
        """Check what is due; answer how long to sleep before the next retry is due."""
        now = datetime.now(UTC)
        async with self.sessions() as session:
            pending = await email_checks.due(session, now=now)
        for check in pending:
            await self._check(check)
        async with self.sessions() as session:
            retry_at = await email_checks.next_retry(session)
        if retry_at is None:
            return self.idle
        retry_at = retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=UTC)
        return min(self.idle, max(0.05, (retry_at - datetime.now(UTC)).total_seconds()))

    async def _check(self, check: email_checks.Pending) -> None:
        try:
            account = await self.directory.lookup(check.email)
            down = None
        except DirectoryUnavailable as problem:
            account, down = None, str(problem)
        if down is not None:
            extra = {"check_id": check.check_id, "reason": down}
            log.warning("directory unavailable", extra=extra)

        async def record() -> list[list[Head]]:
            # Its own transaction, run again after a deadlock: the answer is not asked twice.
            now = datetime.now(UTC)
            async with self.sessions() as session, session.begin():
                if down is not None:
                    planned = await email_checks.unavailable(
                        session, check.check_id, now=now, rules=self.rules
                    )
                else:
                    planned = await email_checks.resolve(
                        session, check.check_id, account, now=now, rules=self.rules
                    )
                return await write_jobs(session, planned) if planned else []

        heads = await retrying(record, what="email check")
        extra = {"check_id": check.check_id, "known": account is not None, "down": bool(down)}
        log.info("email checked", extra=extra)
        self.relay.hand_over([h for line in heads for h in line])
