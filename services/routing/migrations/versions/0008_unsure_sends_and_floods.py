"""Sends whose outcome is unknown, a log chat per bot to check them in, and a client's
flood notice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A job whose last attempt may have reached Telegram without routing hearing of it (a
timeout, a dropped connection, a worker that died, a report that never landed) is
`unsure`: before it is sent again, delivery checks whether the message exists, by
forwarding candidates into the bot's `log_chat_id`. A client who writes faster than the
flood threshold is told once (`flood_notice_at`) that their lines are kept and coming.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("unsure", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("bots") as batch:
        batch.add_column(sa.Column("log_chat_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("flood_notice_at", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("flood_notice_at")
    with op.batch_alter_table("bots") as batch:
        batch.drop_column("log_chat_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("unsure")
