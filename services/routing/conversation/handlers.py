"""The handler tables: which handler acts on each kind of update and on each staff
command, and who decides about a line from a client not in a conversation.

Conversation reads the tables; `services/routing/wiring.py::build()` fills them in (a
feature's handlers are registered there, so "where is X handled" is one lookup and no
feature imports another).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import BotRole
from services.routing.domain import inbound, plan, topic_creations
from services.routing.domain.splitting import strip_command
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing
from services.routing.outbox.outcomes import Finished


class Kind(StrEnum):
    """The kinds of update that act on what is already there (not a new line)."""

    EDIT = "edited_message"
    REACTION = "message_reaction"
    MEMBERSHIP = "my_chat_member"
    PRESS = "callback_query"
    # Not a Telegram update kind: a blocked client's new line, which means they unblocked.
    UNBLOCKED = "unblocked"
    # A bot's own forum_topic_created service message (a topic it made): not a line.
    TOPIC_CREATED = "forum_topic_created"


# Updates that are not lines and may act on what is there. An edit is a Line (an
# `edited_message` that is not a message object is no edit); UNBLOCKED is made by
# routing, never read from Telegram.
OTHER_KINDS = {kind.value: kind for kind in (Kind.REACTION, Kind.MEMBERSHIP, Kind.PRESS)}


def kind_of(update: inbound.Line | inbound.Other, bot_id: int = 0) -> Kind | None:
    """The kind of an update that may act on what is there; None for a new line (or
    a person's edit of nothing: a bot's own edits are never acted on). Of the service
    messages only one is acted on: the creation of a topic by the very bot that
    received it (`bot_id`); the others are events nobody carries."""
    if isinstance(update, inbound.Line):
        if topic_creations.made_by_itself(update, bot_id) is not None:
            return Kind.TOPIC_CREATED
        return Kind.EDIT if update.edited and not update.sender_is_bot else None
    return OTHER_KINDS.get(update.kind)


@dataclass(frozen=True)
class Event:
    """An update that acts on what is there, with the bot it came through."""

    kind: Kind
    update: inbound.Line | inbound.Other
    bot_id: int
    correlation_id: str
    # UNBLOCKED: the client who wrote again.
    user_id: int = 0


@dataclass(frozen=True)
class Command:
    """A staff command written in a customer's topic (not a line for the client)."""

    name: str
    argument: str
    line: inbound.Line
    bot_id: int
    correlation_id: str
    # The customer's topic it was written in, who wrote it, and whose topic it is.
    topic: plan.StaffTopic
    author: plan.Author
    customer_id: int


@dataclass(frozen=True)
class Settled:
    """An event's answer when it finished jobs itself, as delivery's report of them
    would have (outbox.record_outcomes, whose jobs are written already): the heads that
    went out in its transaction, for the dispatcher once committed; the jobs finished,
    for the metrics; whether the relay is to look (jobs made ready)."""

    heads: tuple[Head, ...] = ()
    finished: tuple[Finished, ...] = ()
    wake: bool = False


EventHandler = Callable[[AsyncSession, Event], Awaitable[list[Outgoing] | Settled]]
CommandHandler = Callable[[AsyncSession, Command], Awaitable[list[Outgoing]]]


@dataclass(frozen=True)
class OnEvent:
    """A kind of update's handler, and the bots whose updates of that kind it takes
    (empty: any bot's)."""

    handler: EventHandler
    bots: frozenset[BotRole] = frozenset()

    def takes(self, bot_role: BotRole) -> bool:
        return not self.bots or bot_role in self.bots


class Newcomer(Protocol):
    """What becomes of a line from a client who is not in a conversation."""

    @property
    def customer_id(self) -> int: ...

    # Keep the line (backed up, no jobs yet): it goes to the topics once they exist.
    @property
    def keep(self) -> bool: ...

    # The customer is in a conversation after all (set up meanwhile): route the line.
    @property
    def route(self) -> bool: ...

    # An email to check: the checker is to be woken once committed.
    @property
    def check(self) -> bool: ...

    # The bot's answers to the client.
    @property
    def replies(self) -> Sequence[plan.Planned]: ...


class NewcomerHandler(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        line: inbound.Line,
        *,
        bot_id: int,
        correlation_id: str,
        now: datetime,
    ) -> Newcomer: ...


@dataclass(frozen=True)
class Handlers:
    """The tables conversation dispatches by."""

    events: Mapping[Kind, OnEvent]
    # By the command's name as staff type it (without the slash), tried in order.
    commands: Mapping[str, CommandHandler]
    newcomer: NewcomerHandler

    def takes(
        self, update: inbound.Line | inbound.Other, bot_role: BotRole, bot_id: int = 0
    ) -> Kind | None:
        """The kind of the update when a handler acts on it from this bot; None when
        it is only recorded."""
        kind = kind_of(update, bot_id)
        on = self.events.get(kind) if kind is not None else None
        return kind if on is not None and on.takes(bot_role) else None

    def command_in(self, line: inbound.Line) -> tuple[str, str] | None:
        """(the command, its argument) when a staff line is one of the commands."""
        for name in self.commands:
            found = strip_command(line.text, line.entities, name)
            if found is not None:
                return name, found[0]
        return None
