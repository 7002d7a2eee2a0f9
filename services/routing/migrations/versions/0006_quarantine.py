"""Updates that wait or are quarantined: an update routing could not record for a reason
that will not change is kept, with the error, to be replayed after a fix; an event on a
copy whose delivery is not yet reported waits for it. A job counts its failed attempts
apart from its hand-outs, so a send held back by pacing is no failure to back off from.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
BEFORE = ("accepted", "rejected", "ignored")
AFTER = (*BEFORE, "quarantined", "waiting")
CHECK = "ck_inbound_updates_status"


def _allowed(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _statuses(values: tuple[str, ...]) -> None:
    # SQLite rebuilds the table (batch mode) to change a CHECK; MariaDB alters it.
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), sa.text(_allowed(values)))


def upgrade() -> None:
    _statuses(AFTER)
    with op.batch_alter_table("inbound_updates") as batch:
        batch.add_column(sa.Column("error", sa.String(1024), nullable=True))
        batch.add_column(sa.Column("replayed_at", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE inbound_updates SET status = 'rejected'"
            " WHERE status IN ('quarantined', 'waiting')"
        )
    )
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("failures")
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_column("replayed_at")
        batch.drop_column("error")
    _statuses(BEFORE)
