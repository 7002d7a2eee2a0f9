"""Initial schema: bots, groups, people, topics, the backup, the outbox, the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision
creates the same schema whatever the models become later.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BLOB = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), *MYSQL)
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
# Spread into create_table(**TABLE_OPTIONS): values typed Any, since mypy checks the
# value type against each of create_table's keyword parameters.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.Constraint:
    target_table = target.split(".")[0]
    name = op.f(f"fk_{table}_{column}_{target_table}")
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=ondelete)


def _enum(table: str, column: str, *values: str) -> tuple[sa.Column[str], sa.Constraint]:
    allowed = ", ".join(f"'{value}'" for value in values)
    return (
        sa.Column(column, sa.String(16), nullable=False),
        sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}")),
    )


def _created_at(name: str = "created_at") -> sa.Column[datetime]:
    return sa.Column(name, UTC_DATETIME, nullable=False)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created_at(),
        _pk("teams", "id"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "bots",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        *_enum("bots", "role", "client", "cs", "cr", "treatment"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("token_ref", sa.String(128), nullable=True),
        sa.Column("webhook_secret_sha256", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created_at(),
        _pk("bots", "id"),
        sa.UniqueConstraint("username", name="uq_bots_username"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "staff_groups",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        *_enum("staff_groups", "role", "cs", "cr", "treatment"),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created_at(),
        _pk("staff_groups", "id"),
        _fk("staff_groups", "bot_id", "bots.id"),
        _fk("staff_groups", "team_id", "teams.id"),
        sa.Index("ix_staff_groups_bot_id", "bot_id"),
        sa.Index("ix_staff_groups_team_id", "team_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role_label", sa.String(32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created_at(),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _pk("staff", "id"),
        _fk("staff", "team_id", "teams.id", ondelete="SET NULL"),
        sa.UniqueConstraint("telegram_user_id", name="uq_staff_telegram_user_id"),
        sa.Index("ix_staff_team_id", "team_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        *_enum("customers", "status", "pending", "active", "blocked", "rejected"),
        sa.Column("cs_team_id", sa.Integer(), nullable=True),
        sa.Column("cr_team_id", sa.Integer(), nullable=True),
        sa.Column("treatment", sa.Boolean(), nullable=False),
        sa.Column("language_code", sa.String(16), nullable=True),
        _created_at(),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _pk("customers", "id"),
        _fk("customers", "cs_team_id", "teams.id"),
        _fk("customers", "cr_team_id", "teams.id"),
        sa.UniqueConstraint("telegram_user_id", name="uq_customers_telegram_user_id"),
        sa.Index("ix_customers_email", "email"),
        sa.Index("ix_customers_cs_team_id", "cs_team_id"),
        sa.Index("ix_customers_cr_team_id_status", "cr_team_id", "status"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("message_thread_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        *_enum("topics", "status", "open", "closed", "deleted", "replaced"),
        # 1 while open, NULL otherwise: see uq_topics_current.
        sa.Column("is_current", sa.Boolean(), nullable=True),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        _created_at(),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        _pk("topics", "id"),
        _fk("topics", "customer_id", "customers.id", ondelete="CASCADE"),
        _fk("topics", "group_id", "staff_groups.id"),
        _fk("topics", "replaced_by_id", "topics.id", ondelete="SET NULL"),
        sa.UniqueConstraint("group_id", "message_thread_id", name="uq_topics_group_thread"),
        sa.UniqueConstraint("customer_id", "group_id", "is_current", name="uq_topics_current"),
        sa.CheckConstraint(
            "(status = 'open' AND is_current = 1) OR (status <> 'open' AND is_current IS NULL)",
            name=op.f("ck_topics_current_iff_open"),
        ),
        sa.Index("ix_topics_replaced_by_id", "replaced_by_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "inbound_updates",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        *_enum("inbound_updates", "status", "accepted", "rejected", "ignored"),
        sa.Column("reject_reason", sa.String(255), nullable=True),
        sa.Column("payload", BLOB, nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        _created_at("received_at"),
        _pk("inbound_updates", "id"),
        _fk("inbound_updates", "bot_id", "bots.id"),
        sa.UniqueConstraint("bot_id", "update_id", name="uq_inbound_updates_bot_update"),
        sa.Index("ix_inbound_updates_status_received_at", "status", "received_at"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=True),
        sa.Column("inbound_update_id", BIG_ID, nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        *_enum("messages", "sender_kind", "client", "staff", "system"),
        sa.Column("sender_user_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_message_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("media", sa.JSON(), nullable=True),
        sa.Column("media_group_id", sa.String(64), nullable=True),
        sa.Column("reply_to_message_id", BIG_ID, nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        _created_at(),
        sa.Column("edited_at", UTC_DATETIME, nullable=True),
        sa.Column("deleted_at", UTC_DATETIME, nullable=True),
        _pk("messages", "id"),
        _fk("messages", "bot_id", "bots.id"),
        _fk("messages", "inbound_update_id", "inbound_updates.id", ondelete="SET NULL"),
        _fk("messages", "customer_id", "customers.id", ondelete="CASCADE"),
        _fk("messages", "reply_to_message_id", "messages.id", ondelete="SET NULL"),
        sa.UniqueConstraint(
            "bot_id", "origin_chat_id", "origin_message_id", name="uq_messages_origin"
        ),
        sa.Index("ix_messages_customer_id", "customer_id"),
        sa.Index("ix_messages_media_group_id", "media_group_id"),
        sa.Index("ix_messages_reply_to_message_id", "reply_to_message_id"),
        sa.Index("ix_messages_inbound_update_id", "inbound_update_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "jobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("destination_key", sa.String(128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("payload", BLOB, nullable=False),
        *_enum("jobs", "status", "pending", "dispatched", "succeeded", "failed", "cancelled"),
        # 1 while dispatched, NULL otherwise: see uq_jobs_destination_in_flight.
        sa.Column("in_flight", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UTC_DATETIME, nullable=True),
        sa.Column("dispatched_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_description", sa.String(1024), nullable=True),
        sa.Column("fallback_used", sa.Boolean(), nullable=False),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        _created_at(),
        _pk("jobs", "id"),
        _fk("jobs", "message_id", "messages.id", ondelete="SET NULL"),
        sa.UniqueConstraint("destination_key", "seq", name="uq_jobs_destination_seq"),
        sa.UniqueConstraint("destination_key", "in_flight", name="uq_jobs_destination_in_flight"),
        sa.CheckConstraint(
            "(status = 'dispatched' AND in_flight = 1)"
            " OR (status <> 'dispatched' AND in_flight IS NULL)",
            name=op.f("ck_jobs_in_flight_iff_dispatched"),
        ),
        sa.Index("ix_jobs_status_not_before", "status", "not_before"),
        sa.Index("ix_jobs_destination_status_seq", "destination_key", "status", "seq"),
        sa.Index("ix_jobs_lane_status_finished_at", "lane", "status", "finished_at"),
        sa.Index("ix_jobs_message_id", "message_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "job_destinations",
        sa.Column("destination_key", sa.String(128), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _pk("job_destinations", "destination_key"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "copies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("dest_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("dest_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("dest_message_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("job_id", BIG_ID, nullable=True),
        _created_at(),
        sa.Column("deleted_at", UTC_DATETIME, nullable=True),
        _pk("copies", "id"),
        _fk("copies", "message_id", "messages.id", ondelete="CASCADE"),
        _fk("copies", "bot_id", "bots.id"),
        _fk("copies", "topic_id", "topics.id", ondelete="SET NULL"),
        _fk("copies", "job_id", "jobs.id", ondelete="SET NULL"),
        sa.UniqueConstraint("dest_chat_id", "dest_message_id", name="uq_copies_destination"),
        sa.Index("ix_copies_message_id_dest_chat_id", "message_id", "dest_chat_id"),
        sa.Index("ix_copies_bot_id", "bot_id"),
        sa.Index("ix_copies_topic_id", "topic_id"),
        sa.Index("ix_copies_job_id", "job_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        _created_at("occurred_at"),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_kind", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        _pk("audit_log", "id"),
        sa.Index("ix_audit_log_occurred_at", "occurred_at"),
        sa.Index("ix_audit_log_target", "target_kind", "target_id"),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    # Children before parents; each table's indexes go with it.
    for table in (
        "audit_log",
        "copies",
        "job_destinations",
        "jobs",
        "messages",
        "inbound_updates",
        "topics",
        "customers",
        "staff",
        "staff_groups",
        "bots",
        "teams",
    ):
        op.drop_table(table)
