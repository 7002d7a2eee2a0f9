"""What every OperationsService call works with: the parts wiring hands the servicer,
and the transactions its changes run in.

Each change runs in one transaction with its audit row; reads run without one. The
changes that set jobs off write them in that transaction, and the jobs that became their
destination's head go to the dispatcher once it committed, as a recorded update's do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import AlreadyExists
from services.routing.conversation.batch import Options
from services.routing.domain.onboarding import Texts
from services.routing.domain.plan import Style
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.relay import Relay

# A change that writes jobs: it runs in the transaction and answers the jobs to write.
Step = Callable[[AsyncSession], Awaitable[list[Outgoing]]]


@dataclass(frozen=True, kw_only=True)
class Parts:
    sessions: async_sessionmaker[AsyncSession]
    relay: Relay
    onboarding: OnboardingSteps
    texts: Texts  # the welcomes an assignment sends
    style: Style  # how a staff member's line is attributed to the client
    # How a replayed update is recorded (RoutingService's options), and the checker
    # to wake when it gave an email.
    recording: Options | None = None
    checker: EmailChecker | None = None

    @asynccontextmanager
    async def change(self, conflict: str) -> AsyncIterator[AsyncSession]:
        """A transaction for a change; a unique key that a concurrent change took first
        is ALREADY_EXISTS with `conflict`, not an internal error."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except IntegrityError:
            raise AlreadyExists(conflict) from None

    async def run(self, step: Step) -> None:
        """`step` and the jobs it answers in one transaction; the heads among them go
        to the dispatcher once committed."""
        async with self.sessions() as session, session.begin():
            lines = await step(session)
            written = await write_jobs(session, lines) if lines else []
        self.relay.hand_over([head for line in written for head in line])
