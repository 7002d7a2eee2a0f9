"""A staff group's pool of bots: its own bot (`staff_groups.bot_id`) and the further bots
of its role beside it (`staff_group_bots`). Telegram allows one bot about 20 messages a
minute into a group, so a pool multiplies the group's ceiling.

A bot can edit or delete only its own messages, so a topic keeps one bot for life: the
bot that created it (`topics.bot_id`; NULL on topics from before pools means the group's
own bot) speaks there — lines, edits, reactions, deletes, notices — and only that bot's
updates from the topic count. Every bot of the pool is an admin of the group and hears
the same staff line, reaction or edit: the others' updates are recorded as ignored. New
topics go to the bot with the fewest open topics (and creations on their way).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus, TopicStatus
from services.routing.db.models import Bot, Copy, Job, Message, StaffGroup, StaffGroupBot, Topic
from switchboard.delivery.v1 import job_pb2

# The bot that speaks in a topic: its own, or (before pools) its group's.
TOPIC_BOT = func.coalesce(Topic.bot_id, StaffGroup.bot_id)


def topics_scope(group_id: int) -> str:
    """The outbox destination a group's create_topic jobs go through, one at a time
    (services.routing.outbox.jobs)."""
    return f"chat:{group_id}:topics"


async def pools(session: AsyncSession, group_ids: Collection[int]) -> dict[int, tuple[int, ...]]:
    """Each group's pool: its own bot first, then the further ones by id."""
    if not group_ids:
        return {}
    out: dict[int, list[int]] = {
        g: [b]
        for g, b in await session.execute(
            select(StaffGroup.id, StaffGroup.bot_id).where(StaffGroup.id.in_(set(group_ids)))
        )
    }
    rows = await session.execute(
        select(StaffGroupBot.group_id, StaffGroupBot.bot_id)
        .where(StaffGroupBot.group_id.in_(set(group_ids)))
        .order_by(StaffGroupBot.group_id, StaffGroupBot.bot_id)
    )
    for group_id, bot_id in rows:
        if group_id in out and bot_id not in out[group_id]:
            out[group_id].append(bot_id)
    return {g: tuple(bots) for g, bots in out.items()}


async def pool_of(session: AsyncSession, group_id: int) -> tuple[int, ...]:
    return (await pools(session, {group_id})).get(group_id, ())


async def _active(session: AsyncSession, bots: Collection[int]) -> set[int]:
    rows = await session.scalars(select(Bot.id).where(Bot.id.in_(set(bots)), Bot.active.is_(True)))
    return set(rows)


async def load(session: AsyncSession, group_id: int) -> Counter[int]:
    """How many topics each bot of the group speaks in: its open topics, and the topics
    whose creation is on its way (so a burst of confirmations spreads over the pool)."""
    counts: Counter[int] = Counter()
    rows = await session.execute(
        select(TOPIC_BOT, func.count())
        .select_from(Topic)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.group_id == group_id, Topic.status == TopicStatus.OPEN)
        .group_by(TOPIC_BOT)
    )
    for bot_id, count in rows:
        counts[bot_id] += count
    creating = await session.scalars(
        select(Job.payload).where(
            Job.destination_key == topics_scope(group_id),
            Job.status.in_((JobStatus.PENDING, JobStatus.DISPATCHED)),
        )
    )
    for payload in creating:
        counts[job_pb2.DeliveryJob.FromString(payload).bot_id] += 1
    return counts


async def least_loaded(session: AsyncSession, group: StaffGroup) -> int:
    """The bot a new topic of `group` goes to: the active bot of its pool with the fewest
    topics; a tie goes to the group's own bot, then to the pool's order."""
    pool = await pool_of(session, group.id) or (group.bot_id,)
    active = await _active(session, pool)
    candidates = [b for b in pool if b in active or b == group.bot_id]
    counts = await load(session, group.id)
    return min(candidates, key=lambda b: (counts[b], b != group.bot_id, pool.index(b)))


async def keeps_or_chooses(session: AsyncSession, group: StaffGroup, bot_id: int | None) -> int:
    """A topic's successor (a recreated topic) keeps `bot_id` while it is still in the
    group's pool and active; otherwise the least-loaded bot takes it."""
    if bot_id is not None:
        pool = await pool_of(session, group.id)
        if bot_id in pool and (bot_id == group.bot_id or await _active(session, {bot_id})):
            return bot_id
    return await least_loaded(session, group)


async def heard_by_another(
    session: AsyncSession, *, bot_id: int, chat_id: int, message_id: int
) -> bool:
    """Whether a message of a staff group is another pool bot's to hear about: it is that
    bot's copy, or a staff line that bot carried. Every admin bot of the group gets the
    update; the one whose message it is answers it, the others' updates are ignored."""
    if chat_id > 0:
        return False  # a private chat: one bot is in it
    owner = await session.scalar(
        select(Copy.bot_id)
        .where(Copy.dest_chat_id == chat_id, Copy.dest_message_id == message_id)
        .limit(1)
    )
    if owner is None:
        owner = await session.scalar(
            select(Message.bot_id)
            .where(Message.origin_chat_id == chat_id, Message.origin_message_id == message_id)
            .limit(1)
        )
    if owner is None or owner == bot_id:
        return False
    pool = await pool_of(session, chat_id)
    return bot_id in pool and owner in pool
