"""Pacing held by routing for the whole deployment, and pools of bots per group.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

`send_budgets` keeps, per Telegram limit (a chat, a group, a bot), the earliest time
the next send may go: every routing replica reserves slots under the row's lock, so the
limits hold however many routing and delivery processes there are. A destination
remembers when it was last served, so destinations sharing a group take turns. A staff
group may have several bots of its role; each topic keeps the bot that opened it.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def upgrade() -> None:
    op.create_table(
        "send_budgets",
        sa.Column("budget_key", sa.String(96), nullable=False),
        sa.Column("next_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("budget_key", name=op.f("pk_send_budgets")),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    with op.batch_alter_table("job_destinations") as batch:
        batch.add_column(sa.Column("served_at", UTC_DATETIME, nullable=True))
    op.create_table(
        "staff_group_bots",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("group_id", "bot_id", name=op.f("pk_staff_group_bots")),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["staff_groups.id"],
            name=op.f("fk_staff_group_bots_group_id_staff_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_staff_group_bots_bot_id_bots")
        ),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_staff_group_bots_bot_id", "staff_group_bots", ["bot_id"])
    with op.batch_alter_table("topics") as batch:
        batch.add_column(sa.Column("bot_id", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(op.f("fk_topics_bot_id_bots"), "bots", ["bot_id"], ["id"])
        batch.create_index("ix_topics_bot_id", ["bot_id"])


def downgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.drop_constraint(op.f("fk_topics_bot_id_bots"), type_="foreignkey")
        batch.drop_index("ix_topics_bot_id")
        batch.drop_column("bot_id")
    op.drop_table("staff_group_bots")  # its index goes with it
    with op.batch_alter_table("job_destinations") as batch:
        batch.drop_column("served_at")
    op.drop_table("send_budgets")
