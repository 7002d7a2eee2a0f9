"""Updates that act on what is already there rather than add a line: an edit, a
reaction, a client blocking or unblocking the bot, a CS member's button press, and the
staff commands `/delete` and `/treatment`. Each looks up what it acts on (they are rare
next to lines, so one at a time) and answers its jobs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation import blocked_clients, deletes, edits, reactions, staff_commands
from services.routing.db.column_types import utcnow
from services.routing.db.enums import BotRole
from services.routing.domain import inbound, plan
from services.routing.domain.onboarding import Texts
from services.routing.domain.splitting import strip_command
from services.routing.onboarding import presses
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor

# Not a Telegram update kind: a blocked client's new line, which means they unblocked.
UNBLOCKED = "unblocked"
DELETE, TREATMENT = "delete", staff_commands.COMMAND


def acts_on(update: inbound.Line | inbound.Other, bot_role: BotRole) -> bool:
    """Whether an update (not a new line) is one routing acts on: a person's edit, a
    reaction, the client bot's membership in a private chat, a press of a CS prompt."""
    if isinstance(update, inbound.Line):
        return update.edited and not update.sender_is_bot
    return (
        update.kind == "message_reaction"
        or (update.kind == "my_chat_member" and bot_role == BotRole.CLIENT)
        or (update.kind == "callback_query" and bot_role == BotRole.CS)
    )


def command_of(line: inbound.Line, style: plan.Style) -> tuple[str, str] | None:
    """(the command, its argument) when a staff line is /delete or /treatment."""
    for command, name in (
        (DELETE, style.delete_command),
        (TREATMENT, TREATMENT),
    ):
        found = strip_command(line.text, line.entities, name)
        if found is not None:
            return command, found[0]
    return None


@dataclass(frozen=True)
class Event:
    update: inbound.Line | inbound.Other
    bot_id: int
    correlation_id: str
    # A staff command (DELETE, TREATMENT): its argument, the topic it was written in,
    # who wrote it, and the customer whose topic that is.
    command: str = ""
    command_arg: str = ""
    command_place: plan.Place | None = None
    author: plan.Author | None = None
    customer_id: int = 0
    # For UNBLOCKED: the client.
    user_id: int = 0


async def plan_event(
    session: AsyncSession, event: Event, *, style: plan.Style, texts: Texts
) -> list[Outgoing]:
    """The jobs the event needs, each group with the backed-up message it is about."""
    update, bot_id, correlation = event.update, event.bot_id, event.correlation_id
    about: int | None = None
    if event.command == DELETE and isinstance(update, inbound.Line):
        about, planned = await deletes.plan_delete(
            session, update, bot_id=bot_id, topic=event.command_place
        )
    elif event.command == TREATMENT and isinstance(update, inbound.Line):
        author = event.author or plan.Author(update.sender_name, "")
        actor = Actor("staff", str(update.sender_id), f"{author.name} · {author.role}")
        return await staff_commands.treatment_command(
            session, customer_id=event.customer_id, arg=event.command_arg, actor=actor,
            place=event.command_place, correlation=correlation,
        )  # fmt: skip
    elif isinstance(update, inbound.Line):
        source, planned = await edits.plan_edit(session, update, bot_id=bot_id, style=style)
        about = source.id if source else None
    elif update.kind == "message_reaction":
        source, planned = await reactions.plan_reaction(session, update.raw, bot_id=bot_id)
        about = source.id if source else None
    elif update.kind == "callback_query":
        return await presses.on_press(
            session,
            update.raw,
            bot_id=bot_id,
            correlation=correlation,
            now=utcnow(),
            texts=texts,
        )
    else:
        planned = await _membership(session, event)
    return [Outgoing(about, planned, correlation)] if planned else []


async def _membership(session: AsyncSession, event: Event) -> list[plan.Planned]:
    if event.update.kind == UNBLOCKED:
        change: tuple[int, bool] | None = (event.user_id, False)
        via = "wrote again"
    else:
        change, via = blocked_clients.membership_change(event.update.raw), "my_chat_member"
    if change is None:
        return []
    return await blocked_clients.set_blocked(
        session, change[0], blocked=change[1], via=via, correlation_id=event.correlation_id
    )
