"""The outbox: delivery jobs, ordered per destination."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from services.routing.db.column_types import BIG_ID, BLOB, str_enum
from services.routing.db.enums import JobStatus
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, BigPk, CreatedAt


class Job(Base):
    """One call to make to Telegram, with its outcome.

    destination_key (e.g. "chat:-100123:thread:7") is the ordering scope; seq grows
    strictly within it. Only the head of a destination may be in flight: `in_flight`
    is 1 while dispatched and NULL otherwise (never 0), so the unique key on
    (destination_key, in_flight) admits one dispatched job per destination on both
    backends — the same device as Topic.is_current.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("destination_key", "seq", name="uq_jobs_destination_seq"),
        UniqueConstraint("destination_key", "in_flight", name="uq_jobs_destination_in_flight"),
        CheckConstraint(
            "(status = 'dispatched' AND in_flight = 1)"
            " OR (status <> 'dispatched' AND in_flight IS NULL)",
            name="in_flight_iff_dispatched",
        ),
        # Jobs by status: recovery looks for the dispatched ones.
        Index("ix_jobs_status_not_before", "status", "not_before"),
        # Moving a destination's head past a finished job.
        Index("ix_jobs_destination_status_seq", "destination_key", "status", "seq"),
        # Operations: failures by lane over time.
        Index("ix_jobs_lane_status_finished_at", "lane", "status", "finished_at"),
        Index("ix_jobs_message_id", "message_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    lane: Mapped[str] = mapped_column(String(32))
    # copy, send, edit, react, delete, topic… an open set, decided by the payload type.
    kind: Mapped[str] = mapped_column(String(32))
    destination_key: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    # The serialized protobuf job, exactly as it is pushed to the queue.
    payload: Mapped[bytes] = mapped_column(BLOB)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, name="status"), default=JobStatus.PENDING
    )
    in_flight: Mapped[bool | None] = mapped_column(default=None)
    # Written before its content is known (an album collecting its items): it keeps its
    # place in the destination's order but is not handed out until released.
    held: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Hand-outs (each is an attempt number that a claim checks) ...
    attempts: Mapped[int] = mapped_column(default=0)
    # ... and of those, the ones that failed: the backoff counts these, not a send that
    # pacing held back.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # Its last attempt may have reached Telegram unheard of (a timeout, a lost report):
    # delivery checks whether the message exists before sending it again.
    unsure: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Not before this time: Telegram's retry_after, or the backoff after a failure.
    not_before: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    # While set and in the future, one delivery attempt holds the job (see ClaimJob).
    claimed_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error_code: Mapped[int | None]
    error_description: Mapped[str | None] = mapped_column(String(1024))
    # Sent as plain text because Telegram could not parse the formatting.
    fallback_used: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("messages.id", ondelete="SET NULL")
    )
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[CreatedAt]

    @validates("status")
    def _track_in_flight(self, _key: str, status: JobStatus) -> JobStatus:
        self.in_flight = True if status == JobStatus.DISPATCHED else None
        return status


class JobDestination(Base):
    """One ordering scope of the outbox: its last sequence number and its head.

    Taking the next number updates this row, and the row lock it holds until commit
    makes sequence order equal commit order: a job never becomes visible behind a
    later one of its destination (see services.routing.outbox.sequences).

    `head_seq` is the destination's oldest unfinished job (NULL when it has none) and
    `ready_at` the time that head may be handed out — NULL while it is out with
    delivery. The relay reads only rows whose ready_at has passed, so its work grows
    with what can be sent now, not with the backlog (services.routing.outbox.destination_heads).
    """

    __tablename__ = "job_destinations"
    __table_args__ = (
        Index("ix_job_destinations_ready_at", "ready_at"),
        MYSQL_TABLE_OPTIONS,
    )

    destination_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    head_seq: Mapped[int | None] = mapped_column(BigInteger)
    ready_at: Mapped[datetime | None]
    # When its last head was given a send slot: destinations sharing a group's budget
    # take turns, the least recently served first (services.routing.outbox.pacing).
    served_at: Mapped[datetime | None]


class SendBudget(Base):
    """One Telegram limit's schedule (a chat's, a group's, a bot's): the earliest time
    its next send may go (GCRA's theoretical arrival time). Slots are reserved under the
    row's lock, so the limit holds for every routing and delivery process together."""

    __tablename__ = "send_budgets"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    # "chat:<bot>:<chat>", "group:<bot>:<chat>" or "bot:<bot>".
    budget_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    next_at: Mapped[datetime]
