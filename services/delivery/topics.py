"""Forum topics: create one for a create_topic job (a new customer's, or one that
staff deleted), close one for a close_topic job, delete one our bot made twice for a
delete_topic job, and reopen one that staff closed so that a message can still go
there."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2

from .outcome import (
    Result,
    Verdict,
    is_deleted_topic,
    is_not_allowed,
    is_topic_not_modified,
)
from .sends import Senders


async def create_topic(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    made = await senders.bots[job.bot_id].create_forum_topic(
        chat_id=job.destination.chat_id, name=job.create_topic.name
    )
    return Result(Verdict.SENT, created_thread_id=made.message_thread_id)


async def close_topic(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """Close the destination's topic. One already closed is closed; one deleted has
    nothing left to close — not the TOPIC_DELETED obstacle, whose recreation would undo
    the very close that was asked for."""
    dest = job.destination
    if not dest.message_thread_id:
        return Result(Verdict.FAILED, description="cannot deliver: the job names no topic")
    try:
        await senders.bots[job.bot_id].close_forum_topic(
            chat_id=dest.chat_id, message_thread_id=dest.message_thread_id
        )
    except TelegramBadRequest as exc:
        if not (is_topic_not_modified(exc) or is_deleted_topic(exc)):
            raise
    return Result(Verdict.SENT)


async def delete_topic(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """Delete the destination's topic (an empty one made twice). One already gone is
    deleted — not the TOPIC_DELETED obstacle, which would recreate it. A bot without
    the right to delete (can_delete_messages) closes it instead: it may close a topic
    it created."""
    dest = job.destination
    if not dest.message_thread_id:
        return Result(Verdict.FAILED, description="cannot deliver: the job names no topic")
    bot = senders.bots[job.bot_id]
    try:
        await bot.delete_forum_topic(chat_id=dest.chat_id, message_thread_id=dest.message_thread_id)
    except TelegramBadRequest as exc:
        if is_deleted_topic(exc):
            return Result(Verdict.SENT)
        if not is_not_allowed(exc):
            raise
        return await close_topic(senders, job, referred, plain=plain)
    return Result(Verdict.SENT)


async def reopen(bot: Bot, destination: common_pb2.Destination) -> None:
    """Reopen the destination's topic; one already open again is fine."""
    try:
        await bot.reopen_forum_topic(
            chat_id=destination.chat_id, message_thread_id=destination.message_thread_id
        )
    except TelegramBadRequest as exc:
        if not is_topic_not_modified(exc):
            raise
