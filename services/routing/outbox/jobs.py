"""Writing delivery jobs: one outbox row per planned send, numbered within its
destination, carrying the protobuf job that the queue will push to delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.inserts import insert_returning
from services.routing.db.models import Job
from services.routing.domain.destinations import destination_key
from services.routing.domain.plan import Action, Content, Notice, Planned
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.sequences import take
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
LANES = {
    "client-to-staff": common_pb2.LANE_CLIENT_TO_STAFF,
    "staff-to-client": common_pb2.LANE_STAFF_TO_CLIENT,
    "cs-prompts": common_pb2.LANE_CS_PROMPTS,
    "treatment": common_pb2.LANE_TREATMENT,
    "cr-reassignment": common_pb2.LANE_CR_REASSIGNMENT,
}

LANE_NAMES = {number: name for name, number in LANES.items()}


def key_of(plan: Planned) -> str:
    """The ordering scope of a planned job. Creating topics in a group goes one at a
    time in a scope of its own (Telegram limits it per group), apart from the messages."""
    if isinstance(plan.content, Action) and plan.content.kind == "create_topic":
        return f"chat:{plan.chat_id}:topics"
    if isinstance(plan.content, Action) and plan.content.kind == "answer_callback":
        # An answer waits for nothing else: each press has a scope of its own.
        return f"callback:{plan.content.callback_query_id}"
    return destination_key(plan.chat_id, plan.thread_id)


# --- the payload: what each kind of content or action puts on the job ---------------
# Each filler puts its content on the job and answers the job kind the outbox stores
# (what delivery's dispatch and the outcome handlers key on).

ContentFiller = Callable[[job_pb2.DeliveryJob, Content], str]
ActionFiller = Callable[[job_pb2.DeliveryJob, Action], str]


def fill_action(job: job_pb2.DeliveryJob, content: Content | Action) -> str:
    """Put the content on the job; answer the job kind stored in the outbox."""
    if isinstance(content, Action):
        filler = ACTION_FILLERS.get(content.kind)
        if filler is None:
            raise ValueError(f"unknown action {content.kind}")
        return filler(job, content)
    return CONTENT_FILLERS.get(content.kind, _send_media)(job, content)


def _send_text(job: job_pb2.DeliveryJob, content: Content) -> str:
    _formatted(job.send_text.text, content.text, content.entities)
    _keyboard(job.send_text.reply_markup, content.keyboard)
    return "send_text"


def _send_location(job: job_pb2.DeliveryJob, content: Content) -> str:
    fields = dict(content.fields)
    job.send_location.latitude = _number(fields["latitude"])
    job.send_location.longitude = _number(fields["longitude"])
    return "send_location"


def _number(value: object) -> float:
    if not isinstance(value, int | float | str):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _send_contact(job: job_pb2.DeliveryJob, content: Content) -> str:
    fields = dict(content.fields)
    job.send_contact.phone_number = str(fields.get("phone_number", ""))
    job.send_contact.first_name = str(fields.get("first_name", ""))
    job.send_contact.last_name = str(fields.get("last_name") or "")
    return "send_contact"


def _send_media(job: job_pb2.DeliveryJob, content: Content) -> str:
    """Any other content kind is media (photo, document, sticker...)."""
    _fill_media(job.send_media, content)
    return "send_media"


def _album(job: job_pb2.DeliveryJob, action: Action) -> str:
    if not action.items:
        return "send_album"  # held: the items come when it is released
    if len(action.items) == 1:  # Telegram's albums have 2 to 10 items
        _fill_media(job.send_media, action.items[0])
        return "send_media"
    for item in action.items:
        _fill_media(job.send_album.items.add(), item)
    return "send_album"


def _edit_text(job: job_pb2.DeliveryJob, action: Action) -> str:
    _formatted(job.edit_text.text, action.text, action.entities)
    # A bot's own message, addressed directly (a prompt whose buttons go).
    job.edit_text.message_id = action.message_ids[0] if action.message_ids else 0
    return "edit_text"


def _edit_caption(job: job_pb2.DeliveryJob, action: Action) -> str:
    _formatted(job.edit_caption.caption, action.text, action.entities)
    return "edit_caption"


def _set_reaction(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.set_reaction.emoji.extend(action.emoji)
    job.set_reaction.SetInParent()
    return "set_reaction"


def _delete_messages(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.delete_messages.message_ids.extend(action.message_ids)
    job.delete_messages.SetInParent()
    return "delete_messages"


def _create_topic(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.create_topic.name = action.name
    job.create_topic.replaces_topic_id = action.replaces_topic_id
    job.create_topic.customer_id = action.customer_id
    return "create_topic"


def _close_topic(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.close_topic.SetInParent()
    return "close_topic"


def _delete_topic(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.delete_topic.SetInParent()
    return "delete_topic"


def _answer_callback(job: job_pb2.DeliveryJob, action: Action) -> str:
    job.answer_callback.callback_query_id = action.callback_query_id
    job.answer_callback.text = action.text
    job.answer_callback.show_alert = action.show_alert
    return "answer_callback"


# Content by its kind; a kind not here is media.
CONTENT_FILLERS: dict[str, ContentFiller] = {
    "text": _send_text,
    "location": _send_location,
    "contact": _send_contact,
}
# Actions by their kind; a kind not here is a mistake (ValueError).
ACTION_FILLERS: dict[str, ActionFiller] = {
    "album": _album,
    "edit_text": _edit_text,
    "edit_caption": _edit_caption,
    "set_reaction": _set_reaction,
    "delete_messages": _delete_messages,
    "create_topic": _create_topic,
    "close_topic": _close_topic,
    "delete_topic": _delete_topic,
    "answer_callback": _answer_callback,
}


def _formatted(
    formatted: common_pb2.FormattedText, text: str, entities: Iterable[dict[str, Any]]
) -> None:
    formatted.text = text
    for e in entities:
        formatted.entities.add(
            type=e["type"],
            offset=e["offset"],
            length=e["length"],
            url=e.get("url", ""),
            language=e.get("language", ""),
            user_id=(e.get("user") or {}).get("id", 0),
            custom_emoji_id=e.get("custom_emoji_id", ""),
        )


def _keyboard(markup: job_pb2.InlineKeyboard, rows: Iterable[Iterable[tuple[str, str]]]) -> None:
    for row in rows:
        buttons = markup.rows.add().buttons
        for label, data in row:
            buttons.add(text=label, callback_data=data)


def _fill_media(media: job_pb2.SendMedia, content: Content) -> None:
    media.kind = content.kind
    media.file_id = content.file_id
    media.file_unique_id = content.file_unique_id
    media.file_name = content.file_name
    media.source_bot_id = content.source_bot_id
    media.source_message_id = content.source_message_id
    if content.text:
        _formatted(media.caption, content.text, content.entities)


def _fill_notice(job: job_pb2.DeliveryJob, notice: Notice) -> None:
    job.failure_notice.bot_id = notice.bot_id
    job.failure_notice.destination.chat_id = notice.chat_id
    job.failure_notice.destination.message_thread_id = notice.thread_id or 0
    job.failure_notice.lane = LANES[notice.lane]
    job.failure_notice.text = notice.text


@dataclass
class Outgoing:
    """The jobs one backed-up line (or event) asks for, in the order they are written."""

    message_id: int | None
    planned: list[Planned]
    correlation_id: str


async def write_jobs(session: AsyncSession, lines: list[Outgoing]) -> list[list[Head]]:
    """Add the jobs of every line to the session's transaction, numbered within their
    destinations in the order given. A job that becomes its destination's head (nothing
    waited there) is written as handed out, attempt 1: answered per line, for the caller
    to give to the dispatcher once committed. The others wait behind an earlier job.

    The stored payload has no job id and no attempt: the hand-out adds both, so the rows
    go in as one multi-row insert with nothing to update after.
    """
    keys = [[key_of(p) for p in line.planned] for line in lines]
    now = datetime.now(UTC)
    counts = Counter(key for line_keys in keys for key in line_keys)
    taken = await take(session, counts, now=now, hand_out=True)
    next_seq = dict(taken.first)
    created = Timestamp()
    created.FromDatetime(now)
    rows: list[dict[str, Any]] = []
    line_of_row: list[int] = []
    for n, (line, line_keys) in enumerate(zip(lines, keys, strict=True)):
        for plan, key in zip(line.planned, line_keys, strict=True):
            seq, next_seq[key] = next_seq[key], next_seq[key] + 1
            proto = job_pb2.DeliveryJob(
                lane=LANES[plan.lane],
                bot_id=plan.bot_id,
                sequence=seq,
                correlation_id=line.correlation_id,
                created_at=created,
                refers_to=plan.refers_to,
                refers_to_part=plan.refers_to_part,
                refers_to_all_parts=plan.refers_to_all_parts,
                part=plan.part,
            )
            proto.destination.chat_id = plan.chat_id
            proto.destination.message_thread_id = plan.thread_id or 0
            if plan.notice is not None:
                _fill_notice(proto, plan.notice)
            kind = fill_action(proto, plan.content)
            # A held job keeps its place; it is handed out when released.
            head = key in taken.new_heads and seq == taken.first[key] and not plan.held
            rows.append(
                {
                    "lane": plan.lane,
                    "kind": kind,
                    "destination_key": key,
                    "seq": seq,
                    "payload": proto.SerializeToString(),
                    "status": JobStatus.DISPATCHED if head else JobStatus.PENDING,
                    "in_flight": True if head else None,
                    "attempts": 1 if head else 0,
                    "held": plan.held,
                    "dispatched_at": now if head else None,
                    "fallback_used": False,
                    "message_id": line.message_id,
                    "correlation_id": line.correlation_id,
                    "created_at": now,
                }
            )
            line_of_row.append(n)
    heads: list[list[Head]] = [[] for _ in lines]
    if not taken.new_heads:
        if rows:
            await session.execute(insert(JOBS), rows)
        return heads
    # The heads' ids are needed to hand them out: one insert still, answering the ids
    # by (destination, seq) — asking for parameter order would cost a statement a row.
    ids = await insert_returning(session, JOBS, rows, key=("destination_key", "seq"))
    for row, n in zip(rows, line_of_row, strict=True):
        if row["status"] == JobStatus.DISPATCHED:
            key = row["destination_key"]
            heads[n].append(Head(ids[(key, row["seq"])], key, row["lane"], 1, row["payload"]))
    return heads
