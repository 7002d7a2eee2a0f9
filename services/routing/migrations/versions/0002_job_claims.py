"""Job claims: delivery claims a job before it sends it, for a lease.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Of two pushes of the same attempt (Cloud Tasks delivers at least once), the one that
sets claimed_until first sends; the other waits and finds the job done.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("claimed_until", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("claimed_until")
