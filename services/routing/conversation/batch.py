"""A batch of updates through the phases of its recording, each a type that says what
that phase knows: `Incoming` (as ingress sent it) → `Read` (parsed, duplicates known)
→ `Routed` (its sender looked up: a `Carried` line, an act, onboarding's replies) →
`Written` (what its jobs came to). `Options` is how a batch is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from services.routing.conversation import albums
from services.routing.conversation.handlers import Command, Event, Handlers
from services.routing.db.enums import BotRole, SenderKind, UpdateStatus
from services.routing.domain import inbound, plan
from services.routing.domain.floods import Floods
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.outcomes import Finished


@dataclass(frozen=True)
class Incoming:
    bot_id: int
    update_id: int
    raw: bytes
    correlation_id: str
    # A quarantined update replayed: recorded in the place of its row (this id).
    row_id: int | None = None


@dataclass(frozen=True)
class Options:
    """How lines are shown and gathered (routing's settings), and the handler tables
    (filled in by wiring.build())."""

    handlers: Handlers
    style: plan.Style = field(default_factory=plan.Style)
    album_window: timedelta = albums.WINDOW
    # When a client floods, and what they are told (off unless given).
    floods: Floods = field(default_factory=Floods)


@dataclass(frozen=True)
class Read:
    """An update read, before anything about its sender is looked up."""

    incoming: Incoming
    bot_role: BotRole | None
    status: UpdateStatus | None = None  # None: not stored (an unknown bot, a duplicate)
    reason: str = ""  # why it is rejected
    line: inbound.Line | None = None  # a new line: carried if it is in a conversation
    event: Event | None = None  # it acts on what is there (an edit, a reaction...)


@dataclass(frozen=True)
class Carried:
    """A line of a conversation: backed up, and carried by its jobs."""

    line: inbound.Line
    sender: SenderKind
    customer_id: int
    planned: tuple[plan.Planned, ...]
    internal: bool = False  # a staff note
    # Onboarding: kept (no jobs yet) until the customer's topics exist.
    kept: bool = False


@dataclass(frozen=True)
class Routed:
    """An update with its sender looked up: what it writes."""

    read: Read
    status: UpdateStatus | None
    carried: Carried | None = None
    # Acted on after the batch's lines are stored.
    act: Event | Command | None = None
    # The bot's own answers (onboarding's, a flood notice), and whether an email waits
    # for the checker.
    replies: tuple[plan.Planned, ...] = ()
    check: bool = False


@dataclass(frozen=True)
class Written:
    """What an update's jobs came to."""

    jobs: int = 0
    heads: tuple[Head, ...] = ()
    # It started an album, or made jobs ready: the relay is to look.
    wake: bool = False
    # Jobs it finished (a topic's creation settled by its service message).
    finished: tuple[Finished, ...] = ()

    def __add__(self, more: Written) -> Written:
        return Written(
            self.jobs + more.jobs,
            self.heads + more.heads,
            self.wake or more.wake,
            self.finished + more.finished,
        )
