"""/delete: staff reply with it to a message in a customer's topic, and the message
goes from every destination it is in — the original and all copies — and the command too.

Telegram tells bots nothing about deletions, hence the command. A destination where Telegram
refuses (a message older than 48 hours, missing rights) is reported in the topic.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.handlers import Command
from services.routing.conversation.replies import source_of
from services.routing.domain import inbound
from services.routing.domain.plan import Action, Content, Notice, Planned, StaffTopic
from services.routing.outbox.jobs import Outgoing
from services.routing.records.message_destinations import destinations_of

NOTHING_TO_DELETE = (
    "Nothing to delete: reply /delete to a message of this conversation (one Switchboard carried)."
)


async def on_delete(session: AsyncSession, command: Command) -> list[Outgoing]:
    """The jobs of a /delete (the command's handler)."""
    about, planned = await plan_delete(
        session, command.line, bot_id=command.bot_id, topic=command.topic
    )
    return [Outgoing(about, planned, command.correlation_id)] if planned else []


async def plan_delete(
    session: AsyncSession, line: inbound.Line, *, bot_id: int, topic: StaffTopic
) -> tuple[int | None, list[Planned]]:
    """The backed-up message to delete (None: nothing known) and the jobs that delete
    it everywhere, the command included."""
    here = Planned(
        lane=topic.lane,
        bot_id=topic.bot_id,
        chat_id=topic.chat_id,
        thread_id=topic.thread_id,
        content=Action("delete_messages", message_ids=(line.message_id,)),
        topic_id=topic.topic_id,
        reply_to_origin=None,
    )
    replied = None
    if line.reply_to_message_id is not None:
        replied = await source_of(
            session, bot_id=bot_id, chat_id=line.chat_id, message_id=line.reply_to_message_id
        )
    if replied is None:
        hint = Planned(
            lane=topic.lane,
            bot_id=topic.bot_id,
            chat_id=topic.chat_id,
            thread_id=topic.thread_id,
            content=Content("text", NOTHING_TO_DELETE, ()),
            topic_id=topic.topic_id,
            reply_to_origin=None,
        )
        return None, [hint]
    planned = []
    for destination in await destinations_of(session, replied):
        ids = (line.message_id,) if destination.chat_id == topic.chat_id else ()
        named = "the client's chat" if destination.lane == "staff-to-client" else "a staff topic"
        if destination.chat_id == topic.chat_id and destination.thread_id == topic.thread_id:
            named = "this topic"
        planned.append(
            Planned(
                lane=destination.lane,
                bot_id=destination.bot_id,
                chat_id=destination.chat_id,
                thread_id=destination.thread_id,
                content=Action("delete_messages", message_ids=ids),
                topic_id=None,
                reply_to_origin=None,
                refers_to=replied.id,
                refers_to_all_parts=True,
                notice=Notice(
                    topic.bot_id,
                    topic.chat_id,
                    topic.thread_id,
                    topic.lane,
                    f"Could not delete the message in {named}",
                ),
            )
        )
    if not any(p.chat_id == topic.chat_id and p.thread_id == topic.thread_id for p in planned):
        planned.append(here)
    return replied.id, planned
