"""Column types that behave the same on SQLite and MySQL/MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Dialect, Enum, Integer, LargeBinary
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator, TypeEngine

# Surrogate keys of the high-volume tables. SQLite only auto-increments an
# "INTEGER PRIMARY KEY" (a rowid alias), which is 64-bit there anyway.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

# Raw update bodies and protobuf job payloads: MySQL's plain BLOB stops at 64 KiB.
BLOB = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC with microseconds.

    Neither SQLite nor MySQL's DATETIME keeps a timezone, so everything is converted to
    UTC on the way in and marked UTC on the way out; a naive value is refused because
    its meaning would depend on the machine that wrote it.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _values(enum_class: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


def str_enum(enum_class: type[StrEnum], *, name: str, length: int = 16) -> Enum:
    """A VARCHAR holding the enum's values, guarded by a CHECK named ck_<table>_<name>."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=_values,
    )
