"""Prompts with inline buttons (an onboarding question to CS): the job's keyboard as
aiogram's markup, and the answer to a button press."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from switchboard.delivery.v1 import job_pb2

from .outcome import Result, Verdict

if TYPE_CHECKING:  # sends builds its messages with keyboard(): no import cycle at runtime
    from .sends import Senders


def keyboard(markup: job_pb2.InlineKeyboard) -> InlineKeyboardMarkup | None:
    """The buttons, row by row; None when there are none (Telegram refuses an empty
    row, and an edit without markup is how the buttons are taken away)."""
    rows = [
        [InlineKeyboardButton(text=b.text, callback_data=b.callback_data) for b in row.buttons]
        for row in markup.rows
        if row.buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def answer_callback(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """Answer a button press. A query Telegram calls too old or invalid raises a Bad
    Request, which fails the job for good: asking again can only get the same answer."""
    answer = job.answer_callback
    await senders.bots[job.bot_id].answer_callback_query(
        callback_query_id=answer.callback_query_id,
        text=answer.text or None,
        show_alert=answer.show_alert or None,
    )
    return Result(Verdict.SENT)
