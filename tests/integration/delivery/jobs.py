"""Delivery jobs as routing writes them, for the sender tests."""

from __future__ import annotations

from collections.abc import Iterable

from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2

CS_BOT = 1002


def job(chat_id: int, *, thread: int = 0, bot_id: int = CS_BOT, **fields) -> job_pb2.DeliveryJob:
    made = job_pb2.DeliveryJob(job_id="1", bot_id=bot_id, **fields)
    made.destination.chat_id = chat_id
    made.destination.message_thread_id = thread
    return made


def formatted(target: common_pb2.FormattedText, text: str, entities: Iterable[dict] = ()) -> None:
    target.text = text
    target.entities.extend(common_pb2.MessageEntity(**e) for e in entities)


def text_job(
    chat_id: int, text: str, *, thread: int = 0, entities: Iterable[dict] = (), **fields
) -> job_pb2.DeliveryJob:
    made = job(chat_id, thread=thread, **fields)
    formatted(made.send_text.text, text, entities)
    return made


def edit_text_job(
    chat_id: int, text: str, *, entities: Iterable[dict] = (), refers_to: int = 77
) -> job_pb2.DeliveryJob:
    made = job(chat_id, refers_to=refers_to)
    formatted(made.edit_text.text, text, entities)
    return made


def buttons(target: job_pb2.InlineKeyboard, *rows: Iterable[tuple[str, str]]) -> None:
    """Rows of (text, callback_data) buttons."""
    for row in rows:
        target.rows.add().buttons.extend(
            job_pb2.InlineButton(text=text, callback_data=data) for text, data in row
        )


def prompt_edit_job(chat_id: int, message_id: int, text: str) -> job_pb2.DeliveryJob:
    """An edit of the bot's own prompt: it names the message and refers to nothing."""
    made = job(chat_id)
    formatted(made.edit_text.text, text)
    made.edit_text.message_id = message_id
    return made


def answer_job(
    chat_id: int, query_id: str, text: str = "", *, show_alert: bool = False
) -> job_pb2.DeliveryJob:
    made = job(chat_id)
    made.answer_callback.callback_query_id = query_id
    made.answer_callback.text = text
    made.answer_callback.show_alert = show_alert
    return made


def close_job(chat_id: int, thread: int) -> job_pb2.DeliveryJob:
    made = job(chat_id, thread=thread)
    made.close_topic.SetInParent()
    return made


def delete_topic_job(chat_id: int, thread: int) -> job_pb2.DeliveryJob:
    made = job(chat_id, thread=thread)
    made.delete_topic.SetInParent()
    return made
