"""The actions on messages already in the destination: edit a copy's text or caption,
set the bot's reaction on it, delete messages. Which copy is routing's answer at claim
time (`referred`); with none there, there is nothing to change and the job is done.
A text edit of the bot's own prompt names the message itself (no copy to look up)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ReactionTypeEmoji

from switchboard.delivery.v1 import job_pb2

from .outcome import Result, Verdict, is_not_modified, is_reaction_target_gone
from .prompts import keyboard
from .sends import Senders, caption_fields, entities


def _nothing() -> Result:
    return Result(Verdict.SENT)


def text_target(job: job_pb2.DeliveryJob, referred: Sequence[int]) -> int:
    """The message a text edit changes (0 = none): the copy the claim found; for a job
    that refers to no message, the one it names (a prompt the bot sent itself)."""
    if referred:
        return referred[0]
    return 0 if job.refers_to else job.edit_text.message_id


async def edit_text(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """The new text, and the buttons the message keeps: an edit without markup takes
    them away (a prompt that has been answered)."""
    target = text_target(job, referred)
    if not target:
        return _nothing()
    chat_id = job.destination.chat_id
    edit = job.edit_text
    try:
        await senders.bots[job.bot_id].edit_message_text(
            chat_id=chat_id,
            message_id=target,
            text=edit.text.text,
            entities=entities(edit.text, plain=plain),
            parse_mode=None,
            reply_markup=keyboard(edit.reply_markup),
        )
    except TelegramBadRequest as exc:
        if not is_not_modified(exc):
            raise
    return Result(Verdict.SENT, sent=[(chat_id, target)])


async def edit_caption(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    if not referred:
        return _nothing()
    chat_id, target = job.destination.chat_id, referred[0]
    try:
        await senders.bots[job.bot_id].edit_message_caption(
            chat_id=chat_id,
            message_id=target,
            **caption_fields(job.edit_caption.caption, plain=plain),
        )
    except TelegramBadRequest as exc:
        if not is_not_modified(exc):
            raise
    return Result(Verdict.SENT, sent=[(chat_id, target)])


async def set_reaction(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """The bot's reaction on the copy: the job's emoji, or none (an empty list)."""
    if not referred:
        return _nothing()
    chat_id, target = job.destination.chat_id, referred[0]
    try:
        await senders.bots[job.bot_id].set_message_reaction(
            chat_id=chat_id,
            message_id=target,
            reaction=[ReactionTypeEmoji(emoji=e) for e in job.set_reaction.emoji],
        )
    except TelegramBadRequest as exc:
        if is_reaction_target_gone(exc):
            return _nothing()  # the copy is gone: nothing to mirror onto
        raise
    return Result(Verdict.SENT, sent=[(chat_id, target)])


def to_delete(job: job_pb2.DeliveryJob, referred: Sequence[int]) -> list[int]:
    """The job's own message ids and the copies the claim found, each once, in order."""
    return list(dict.fromkeys([*job.delete_messages.message_ids, *referred]))


async def delete_messages(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """One deleteMessage per message: deleteMessages skips, without a word, what it may
    not delete (too old, no right), and staff must hear of that. A message already gone
    counts as deleted; a refusal does not stop the others and fails the job with
    Telegram's description (routing tells the topic)."""
    chat_id = job.destination.chat_id
    bot = senders.bots[job.bot_id]
    done, refused = [], None
    for message_id in to_delete(job, referred):
        try:
            await bot.delete_message(chat_id=chat_id, message_id=message_id)
        except TelegramBadRequest as exc:
            if "message to delete not found" not in exc.message:
                refused = refused or exc
                continue
        done.append((chat_id, message_id))
    if refused is not None:
        raise refused
    return Result(Verdict.SENT, sent=done)
