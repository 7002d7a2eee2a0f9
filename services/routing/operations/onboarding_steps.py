"""The steps of onboarding that operations take too, handed in by `wiring.build()`.

Assigning through the API confirms the customer's request as a CS member's press does,
unassigning prompts CS again, and switching Treatment on creates a topic as topic
set-up does. Operations call these rather than import onboarding: features stay
independent, and onboarding keeps one way of doing each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import GroupRole
from services.routing.db.models import Assignment, Customer, StaffGroup
from services.routing.domain import plan
from services.routing.domain.onboarding import Texts
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor


class Decided(Protocol):
    """What confirming a request came to: done, or why not (someone decided first)."""

    @property
    def done(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def lines(self) -> list[Outgoing]: ...


class OpenAssignment(Protocol):
    """The customer's onboarding request still open, locked; None if there is none."""

    async def __call__(self, session: AsyncSession, customer_id: int) -> Assignment | None: ...


class Confirm(Protocol):
    """Confirm a request with a CR team: topics, welcomes and the audit follow."""

    async def __call__(
        self,
        session: AsyncSession,
        assignment_id: int,
        team_id: int,
        actor: Actor,
        *,
        now: datetime,
        texts: Texts,
        correlation: str = "",
    ) -> Decided: ...


class Prompt(Protocol):
    """The prompt in the CS intake topic asking for a CR team."""

    async def __call__(
        self,
        session: AsyncSession,
        customer: Customer,
        assignment: Assignment,
        *,
        reason: str = "",
        correlation: str = "",
    ) -> list[Outgoing]: ...


class GroupOf(Protocol):
    """The active staff group of a role (of a team, for CR)."""

    async def __call__(
        self, session: AsyncSession, role: GroupRole, team_id: int | None = None
    ) -> StaffGroup | None: ...


class TopicJob(Protocol):
    """The job that creates the customer's topic in a group (a failure told in `notify`),
    by the least-loaded bot of the group's pool, which will speak in the topic."""

    async def __call__(
        self,
        session: AsyncSession,
        group: StaffGroup,
        customer: Customer,
        *,
        notify: StaffGroup | None,
    ) -> plan.Planned: ...


@dataclass(frozen=True)
class OnboardingSteps:
    open_assignment: OpenAssignment
    confirm: Confirm
    prompt: Prompt
    group_of: GroupOf
    topic_job: TopicJob
