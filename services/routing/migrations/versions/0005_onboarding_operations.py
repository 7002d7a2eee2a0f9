"""Onboarding and operations: the user directory, email tries, assignment requests,
API keys; a customer's link to its directory record, the CS intake topic, lines kept
until their customer is assigned, and the result of an audited call.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
# Spread into create_table(**TABLE_OPTIONS): values typed Any, since mypy checks the
# value type against each of create_table's keyword parameters.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _check(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def upgrade() -> None:
    op.create_table(
        "directory_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("treatment", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_users")),
        sa.UniqueConstraint("email", name="uq_directory_users_email"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "email_checks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("retry_at", UTC_DATETIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("checked_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_checks")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_email_checks_customer_id_customers"),
            ondelete="CASCADE",
        ),
        _check("result", ("pending", "known", "unknown"), "email_checks"),
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_email_checks_telegram_user_id_created_at",
        "email_checks",
        ["telegram_user_id", "created_at"],
    )
    op.create_index("ix_email_checks_result", "email_checks", ["result"])
    op.create_index("ix_email_checks_customer_id", "email_checks", ["customer_id"])
    op.create_table(
        "assignments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cr_team_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("decided_by_kind", sa.String(16), nullable=True),
        sa.Column("decided_by_id", sa.String(64), nullable=True),
        sa.Column("decided_by_name", sa.String(255), nullable=True),
        sa.Column("topics_pending", sa.Integer(), nullable=False),
        sa.Column("held_notice_sent", sa.Boolean(), nullable=False),
        sa.Column("prompt_message_id", BIG_ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.ForeignKeyConstraint(
            ["prompt_message_id"],
            ["messages.id"],
            name=op.f("fk_assignments_prompt_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_assignments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cr_team_id"], ["teams.id"], name=op.f("fk_assignments_cr_team_id_teams")
        ),
        _check("kind", ("onboarding", "team_change"), "assignments"),
        _check("status", ("pending", "confirmed", "rejected", "cancelled"), "assignments"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_assignments_customer_id_status", "assignments", ["customer_id", "status"])
    op.create_index("ix_assignments_cr_team_id", "assignments", ["cr_team_id"])
    op.create_index("ix_assignments_prompt_message_id", "assignments", ["prompt_message_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("last_used_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("external_id", sa.String(128), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("awaiting_assignment", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("staff_groups") as batch:
        batch.add_column(sa.Column("intake_thread_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("result", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("result")
    with op.batch_alter_table("staff_groups") as batch:
        batch.drop_column("intake_thread_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("awaiting_assignment")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("external_id")
    op.drop_table("api_keys")
    op.drop_table("assignments")  # their indexes go with them
    op.drop_table("email_checks")
    op.drop_table("directory_users")
