"""Conversation fidelity: parts of split messages, held album jobs, topics gone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A copy says which part of its source it is (a long text goes as several messages),
so an edit reaches each part. A job can be held in its destination's order before its
content is known (an album still collecting items). A topic that Telegram says is
gone is marked while its replacement is created.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def upgrade() -> None:
    with op.batch_alter_table("copies") as batch:
        batch.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("topics") as batch:
        batch.add_column(sa.Column("gone_at", UTC_DATETIME, nullable=True))
    op.create_table(
        "pending_albums",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("media_group_id", sa.String(64), nullable=False),
        sa.Column("first_message_id", BIG_ID, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_albums")),
        sa.ForeignKeyConstraint(
            ["first_message_id"],
            ["messages.id"],
            name=op.f("fk_pending_albums_first_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "bot_id", "origin_chat_id", "media_group_id", name="uq_pending_albums_group"
        ),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_pending_albums_due_at", "pending_albums", ["due_at"])
    op.create_index("ix_pending_albums_first_message_id", "pending_albums", ["first_message_id"])


def downgrade() -> None:
    op.drop_table("pending_albums")  # its indexes go with it
    with op.batch_alter_table("topics") as batch:
        batch.drop_column("gone_at")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("held")
    with op.batch_alter_table("copies") as batch:
        batch.drop_column("part")
