"""Writing delivery jobs: one outbox row per planned send, numbered within its
destination, carrying the protobuf job that the queue will push to delivery."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, Message
from services.routing.db.sequences import next_sequences
from services.routing.domain.plan import Content, Planned
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2

from .replies import target_in

LANES = {
    "client-to-staff": common_pb2.LANE_CLIENT_TO_STAFF,
    "staff-to-client": common_pb2.LANE_STAFF_TO_CLIENT,
    "cs-prompts": common_pb2.LANE_CS_PROMPTS,
    "treatment": common_pb2.LANE_TREATMENT,
    "cr-reassignment": common_pb2.LANE_CR_REASSIGNMENT,
}


def destination_key(chat_id: int, thread_id: int | None) -> str:
    return f"chat:{chat_id}:thread:{thread_id or 0}"


def _formatted(target: common_pb2.FormattedText, text: str, entities) -> None:
    target.text = text
    for e in entities:
        target.entities.add(
            type=e["type"],
            offset=e["offset"],
            length=e["length"],
            url=e.get("url", ""),
            language=e.get("language", ""),
            user_id=(e.get("user") or {}).get("id", 0),
            custom_emoji_id=e.get("custom_emoji_id", ""),
        )


def fill_action(job: job_pb2.DeliveryJob, content: Content) -> str:
    """Put the content on the job; answer the job kind stored in the outbox."""
    fields = dict(content.fields)
    if content.kind == "text":
        _formatted(job.send_text.text, content.text, content.entities)
        return "send_text"
    if content.kind == "location":
        job.send_location.latitude = float(fields["latitude"])
        job.send_location.longitude = float(fields["longitude"])
        return "send_location"
    if content.kind == "contact":
        job.send_contact.phone_number = str(fields.get("phone_number", ""))
        job.send_contact.first_name = str(fields.get("first_name", ""))
        job.send_contact.last_name = str(fields.get("last_name") or "")
        return "send_contact"
    media = job.send_media
    media.kind = content.kind
    media.file_id = content.file_id
    media.file_unique_id = content.file_unique_id
    media.file_name = content.file_name
    media.source_bot_id = content.source_bot_id
    if content.text:
        _formatted(media.caption, content.text, content.entities)
    return "send_media"


async def write_jobs(
    session: AsyncSession,
    planned: list[Planned],
    *,
    message: Message,
    replied: Message | None,
    correlation_id: str,
) -> list[Job]:
    """Add the jobs for `message` to the session's transaction."""
    keys = [destination_key(p.chat_id, p.thread_id) for p in planned]
    sequences = await next_sequences(session, keys)
    now = datetime.now(UTC)
    created = Timestamp()
    created.FromDatetime(now)
    jobs = []
    for plan, key in zip(planned, keys, strict=True):
        proto = job_pb2.DeliveryJob(
            lane=LANES[plan.lane],
            bot_id=plan.bot_id,
            sequence=sequences[key],
            correlation_id=correlation_id,
            created_at=created,
        )
        proto.destination.chat_id = plan.chat_id
        proto.destination.message_thread_id = plan.thread_id or 0
        if replied is not None:
            proto.reply_to_message_id = await target_in(session, replied, chat_id=plan.chat_id)
        kind = fill_action(proto, plan.content)
        job = Job(
            lane=plan.lane,
            kind=kind,
            destination_key=key,
            seq=sequences[key],
            payload=b"",
            status=JobStatus.PENDING,
            message_id=message.id,
            correlation_id=correlation_id,
        )
        session.add(job)
        jobs.append((job, proto))
    await session.flush()
    for job, proto in jobs:
        # The job id is the outbox row's id, known once the row exists.
        proto.job_id = str(job.id)
        job.payload = proto.SerializeToString()
    return [job for job, _ in jobs]
