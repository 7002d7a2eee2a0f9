"""Updates that act on what is already there rather than add a line: an edit, a
reaction, a client blocking or unblocking the bot, a staff /delete. Each looks up what
it acts on (they are rare next to lines, so one at a time) and answers its jobs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.domain import inbound, plan

from . import blocking, deletes, edits, reactions

# Not a Telegram update kind: a blocked client's new line, which means they unblocked.
UNBLOCKED = "unblocked"


@dataclass(frozen=True)
class Event:
    update: inbound.Line | inbound.Other
    bot_id: int
    correlation_id: str
    # For a /delete: the topic it was written in.
    command_place: plan.Place | None = None
    # For UNBLOCKED: the client.
    user_id: int = 0


async def plan_event(
    session: AsyncSession, event: Event, style: plan.Style
) -> tuple[int | None, list[plan.Planned]]:
    """The backed-up message the event is about (None: none) and the jobs it needs."""
    update, bot_id = event.update, event.bot_id
    if isinstance(update, inbound.Line) and event.command_place is not None:
        return await deletes.plan_delete(session, update, bot_id=bot_id, topic=event.command_place)
    if isinstance(update, inbound.Line):
        source, planned = await edits.plan_edit(session, update, bot_id=bot_id, style=style)
        return (source.id if source else None), planned
    if update.kind == "message_reaction":
        source, planned = await reactions.plan_reaction(session, update.raw, bot_id=bot_id)
        return (source.id if source else None), planned
    if update.kind == UNBLOCKED:
        change: tuple[int, bool] | None = (event.user_id, False)
        via = "wrote again"
    else:
        change, via = blocking.membership_change(update.raw), "my_chat_member"
    if change is None:
        return None, []
    return None, await blocking.set_blocked(
        session, change[0], blocked=change[1], via=via, correlation_id=event.correlation_id
    )
