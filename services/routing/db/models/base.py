"""The declarative base: naming convention, MySQL table options and shared column shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase, mapped_column

from services.routing.db.column_types import BIG_ID, UTCDateTime, utcnow

# Every index and constraint in the models is named explicitly; the convention names
# what cannot be (foreign keys, primary keys) so migrations can always address them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# utf8mb4 for emoji; the binary collation compares strings the way SQLite does, so a
# unique key or a lookup means the same thing on both backends.
MYSQL_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

# A Telegram user, chat or bot id: up to 52 bits, and supergroup ids are negative.
TelegramId = Annotated[int, mapped_column(BigInteger)]
# The autoincrementing key of a table that grows with traffic.
BigPk = Annotated[int, mapped_column(BIG_ID, primary_key=True)]
CreatedAt = Annotated[datetime, mapped_column(default=utcnow)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 — SQLAlchemy reads this class attribute as is
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }
