"""Carries out one delivery job with aiogram: picks the action's module (sends, changes
to existing messages, topics, prompts), falls back to plain text when Telegram cannot
use the entities, reopens a topic that staff closed, and names the obstacles routing
acts on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Protocol

from aiogram.exceptions import TelegramBadRequest

from switchboard.delivery.v1 import job_pb2

from .changes import delete_messages, edit_caption, edit_text, set_reaction
from .outcome import (
    Obstacle,
    Result,
    Verdict,
    classify,
    is_blocked,
    is_closed_topic,
    is_deleted_topic,
    is_formatting_error,
)
from .prompts import answer_callback
from .sends import SEND_ACTIONS, Senders, send
from .topics import close_topic, create_topic, delete_topic, reopen

__all__ = ["Senders", "execute"]

log = logging.getLogger(__name__)


class Action(Protocol):
    def __call__(
        self,
        senders: Senders,
        job: job_pb2.DeliveryJob,
        referred: Sequence[int],
        *,
        plain: bool,
    ) -> Awaitable[Result]: ...


ACTIONS: dict[str, Action] = {
    **dict.fromkeys(SEND_ACTIONS, send),
    "edit_text": edit_text,
    "edit_caption": edit_caption,
    "set_reaction": set_reaction,
    "delete_messages": delete_messages,
    "create_topic": create_topic,
    "close_topic": close_topic,
    "delete_topic": delete_topic,
    "answer_callback": answer_callback,
}


async def execute(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int] = ()
) -> Result:
    """Carry the job out once; the Result says what happened and what to do next.
    `referred`: the message ids in the job's chat that the job refers to (the claim's
    answer), parts in order; empty when it refers to nothing or nothing is there."""
    if job.bot_id not in senders.bots:
        return Result(Verdict.FAILED, description=f"no token configured for bot {job.bot_id}")
    action = ACTIONS.get(job.WhichOneof("action") or "")
    if action is None:
        return Result(Verdict.FAILED, description="cannot deliver: the job has no action")
    # Every failure is classified, whatever raised it: a worker never crashes on a job.
    try:
        return await _into_open_topic(action, senders, job, referred)
    except Exception as exc:
        return _failure(job, exc)


async def _into_open_topic(
    action: Action, senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int]
) -> Result:
    """A topic that staff closed is reopened and the call made once more."""
    try:
        return await _formatted(action, senders, job, referred)
    except TelegramBadRequest as exc:
        if not (job.destination.message_thread_id and is_closed_topic(exc)):
            raise
    log.info(
        "reopening a closed topic",
        extra={
            "job_id": job.job_id,
            "chat_id": job.destination.chat_id,
            "thread_id": job.destination.message_thread_id,
        },
    )
    await reopen(senders.bots[job.bot_id], job.destination)
    return await _formatted(action, senders, job, referred)


async def _formatted(
    action: Action, senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int]
) -> Result:
    """Rich text first; the same content as plain text when Telegram cannot parse it."""
    try:
        return await action(senders, job, referred, plain=False)
    except TelegramBadRequest as exc:
        if not is_formatting_error(exc):
            raise
    result = await action(senders, job, referred, plain=True)
    result.plain_text_fallback = True
    return result


def _failure(job: job_pb2.DeliveryJob, exc: Exception) -> Result:
    result = classify(exc)
    if result.verdict is not Verdict.FAILED:
        return result
    if job.destination.message_thread_id and is_deleted_topic(exc):
        # Routing recreates the topic and moves the destination's jobs: no retry here.
        result.obstacle = Obstacle.TOPIC_DELETED
    elif is_blocked(exc):
        result.obstacle = Obstacle.CLIENT_BLOCKED
    return result
