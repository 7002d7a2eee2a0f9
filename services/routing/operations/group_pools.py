"""A staff group's pool of bots through the registry document and the operations API:
the further bots of its role beside its own (`staff_group_bots`; what a pool does is in
services.routing.records.bot_pools). Setting a pool replaces it; each bot must exist, be
active and have the group's role. A bot taken out of the pool gets no new topics; the
topics it has keep it (a bot can edit or delete only its own messages) until they are
recreated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.routing.db.models import Bot, StaffGroup, StaffGroupBot
from services.routing.operations.audit_log import audit
from services.routing.records import bot_pools
from switchboard.operations.v1 import operations_pb2

# A pool larger than this is a typo, not a plan (Telegram's limit is per bot and group).
MOST = 20


async def named_bot(session: AsyncSession, given: int | str, *, field: str) -> Bot:
    """The bot a registry names by id or by username (with or without the @)."""
    if isinstance(given, int) or (isinstance(given, str) and given.strip().isdigit()):
        bot = await session.get(Bot, int(given))
    elif isinstance(given, str) and given.strip().lstrip("@"):
        bot = await session.scalar(select(Bot).where(Bot.username == given.strip().lstrip("@")))
    else:
        raise InvalidArgument(f"{field}: a bot is named by its id or its username (got {given!r})")
    if bot is None:
        raise NotFound(f"{field}: no bot {given!r}")
    return bot


async def set_pool(
    session: AsyncSession, group: StaffGroup, given: Sequence[int | str], *, field: str
) -> list[Bot]:
    """Make `given` (ids or usernames) the further bots of `group`'s pool, replacing what
    was; answers them. The group's own bot may be listed (it is in the pool anyway)."""
    if len(given) > MOST:
        raise InvalidArgument(f"{field}: at most {MOST} bots in a pool (got {len(given)})")
    chosen: dict[int, Bot] = {}
    for n, name in enumerate(given):
        bot = await named_bot(session, name, field=f"{field}[{n}]")
        if str(bot.role) != str(group.role):
            raise InvalidArgument(
                f"{field}[{n}]: bot {bot.username} ({bot.id}) is a {bot.role} bot;"
                f" group {group.id} is a {group.role} group"
            )
        if not bot.active:
            raise FailedPrecondition(f"{field}[{n}]: bot {bot.username} ({bot.id}) is inactive")
        if bot.id != group.bot_id:
            chosen[bot.id] = bot
    await session.execute(delete(StaffGroupBot).where(StaffGroupBot.group_id == group.id))
    session.add_all(StaffGroupBot(group_id=group.id, bot_id=bot_id) for bot_id in sorted(chosen))
    await session.flush()
    return [chosen[b] for b in sorted(chosen)]


async def put_pool(
    session: AsyncSession,
    *,
    chat_id: int,
    bots: Sequence[str],
    actor: operations_pb2.Actor,
) -> operations_pb2.GroupBots:
    """SetGroupBots: the group's pool replaced, audited."""
    group = await _group(session, chat_id)
    before = [b for b in await bot_pools.pool_of(session, group.id) if b != group.bot_id]
    chosen = await set_pool(session, group, list(bots), field="bots")
    audit(
        session,
        actor,
        "group.bots",
        "group",
        group.id,
        details={"bots": [b.id for b in chosen], "was": before},
    )
    return await view(session, group.id)


async def view(session: AsyncSession, chat_id: int) -> operations_pb2.GroupBots:
    """GetGroupBots: the group's pool, its own bot first, with each bot's open topics."""
    group = await _group(session, chat_id)
    pool = await bot_pools.pool_of(session, group.id)
    bots = {b.id: b for b in await session.scalars(select(Bot).where(Bot.id.in_(pool)))}
    load = await bot_pools.load(session, group.id)
    return operations_pb2.GroupBots(
        chat_id=group.id,
        bots=[
            operations_pb2.PoolBot(
                bot_id=bot_id,
                username=bots[bot_id].username if bot_id in bots else "",
                active=bots[bot_id].active if bot_id in bots else False,
                own=bot_id == group.bot_id,
                topics=load[bot_id],
            )
            for bot_id in pool
        ],
    )


async def _group(session: AsyncSession, chat_id: int) -> StaffGroup:
    group = await session.get(StaffGroup, chat_id) if chat_id else None
    if group is None:
        raise NotFound(f"chat_id: no staff group with chat id {chat_id}")
    return group
