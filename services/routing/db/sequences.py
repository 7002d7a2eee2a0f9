"""Sequence numbers for outbox jobs, one counter per destination."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import utcnow
from services.routing.db.models import JobDestination

TABLE = JobDestination.__table__


class Taken(NamedTuple):
    first: dict[str, int]  # the first new number of each destination
    new_heads: set[str]  # destinations that were idle: their first new job is ready now


async def take(session: AsyncSession, counts: Mapping[str, int], *, now: datetime) -> Taken:
    """Reserve `counts[key]` numbers in each destination; answer the first of each.

    The counter row stays locked until the transaction ends, so a concurrent writer to
    the same destination waits and gets the following numbers: sequence order is commit
    order, and the relay never sees a job appear behind a later one. A destination with
    no unfinished job gets the first new one as its head, ready at `now`.

    Two statements for a whole batch: one multi-row upsert (rows in sorted key order,
    so two writers never wait on each other crosswise; atomic, so a first-time
    destination needs no insert-or-retry dance, which deadlocks on InnoDB) and one read.
    """
    keys = sorted(k for k, n in counts.items() if n > 0)
    if not keys:
        return Taken({}, set())
    rows = [
        {"destination_key": k, "last_seq": counts[k], "head_seq": 1, "ready_at": now} for k in keys
    ]
    # Rows as VALUES of one statement: the MySQL drivers' executemany rewriting does
    # not parse an upsert whose update clause uses VALUES().
    await session.execute(_upsert(session.get_bind().dialect.name, rows))
    found = await session.execute(
        select(TABLE.c.destination_key, TABLE.c.last_seq, TABLE.c.head_seq).where(
            TABLE.c.destination_key.in_(keys)
        )
    )
    taken = Taken({}, set())
    for key, last, head in found.all():
        taken.first[key] = last - counts[key] + 1
        if head == taken.first[key]:
            taken.new_heads.add(key)
    return taken


async def next_sequences(session: AsyncSession, destination_keys: Iterable[str]) -> dict[str, int]:
    """One number in each of these destinations (tools and tests; writers use `take`)."""
    return (await take(session, dict.fromkeys(destination_keys, 1), now=utcnow())).first


def _upsert(dialect: str, rows: list[dict]):
    # The order of the assignments matters on MySQL, which evaluates them left to
    # right with the values already assigned; SQLite reads the old row for all of them.
    # Written in this order both see the old head_seq and last_seq.
    if dialect == "sqlite":
        statement = sqlite_insert(TABLE).values(rows)
        new = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=["destination_key"],
            set_={
                "ready_at": case(
                    (TABLE.c.head_seq.is_(None), new.ready_at), else_=TABLE.c.ready_at
                ),
                "head_seq": func.coalesce(TABLE.c.head_seq, TABLE.c.last_seq + 1),
                "last_seq": TABLE.c.last_seq + new.last_seq,
            },
        )
    statement = mysql_insert(TABLE).values(rows)
    new = statement.inserted
    return statement.on_duplicate_key_update(
        [
            ("ready_at", case((TABLE.c.head_seq.is_(None), new.ready_at), else_=TABLE.c.ready_at)),
            ("head_seq", func.coalesce(TABLE.c.head_seq, TABLE.c.last_seq + 1)),
            ("last_seq", TABLE.c.last_seq + new.last_seq),
        ]
    )
