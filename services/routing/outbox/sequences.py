"""Sequence numbers for outbox jobs, one counter per destination."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import UTCDateTime, utcnow
from services.routing.db.models import JobDestination

TABLE = cast(Table, JobDestination.__table__)
COUNTERS = select(TABLE.c.destination_key, TABLE.c.last_seq, TABLE.c.head_seq).where(
    TABLE.c.destination_key.in_(bindparam("keys", expanding=True))
)


class Taken(NamedTuple):
    first: dict[str, int]  # the first new number of each destination
    new_heads: set[str]  # destinations that were idle: their first new job is ready now


async def take(
    session: AsyncSession, counts: Mapping[str, int], *, now: datetime, hand_out: bool = False
) -> Taken:
    """Reserve `counts[key]` numbers in each destination; answer the first of each.

    The counter row stays locked until the transaction ends, so a concurrent writer to
    the same destination waits and gets the following numbers: sequence order is commit
    order, and the relay never sees a job appear behind a later one. A destination with
    no unfinished job gets the first new one as its head: ready at `now`, or (with
    `hand_out`) already out, because the caller hands it out itself in this transaction.

    Two statements for a whole batch: one multi-row upsert (rows in sorted key order,
    so two writers never wait on each other crosswise; atomic, so a first-time
    destination needs no insert-or-retry dance, which deadlocks on InnoDB) and one read.
    """
    keys = sorted(k for k, n in counts.items() if n > 0)
    if not keys:
        return Taken({}, set())
    params: dict[str, Any] = {"ready": None if hand_out else now}
    for n, key in enumerate(keys):
        params[f"k{n}"], params[f"n{n}"] = key, counts[key]
    # Rows as VALUES of one statement: the MySQL drivers' executemany rewriting does
    # not parse an upsert whose update clause uses VALUES().
    await session.execute(_upsert(session.get_bind().dialect.name, len(keys)), params)
    found = await session.execute(COUNTERS, {"keys": keys})
    taken = Taken({}, set())
    for key, last, head in found.all():
        taken.first[key] = last - counts[key] + 1
        if head == taken.first[key]:
            taken.new_heads.add(key)
    return taken


async def next_sequences(session: AsyncSession, destination_keys: Iterable[str]) -> dict[str, int]:
    """One number in each of these destinations (tools and tests; writers use `take`)."""
    return (await take(session, dict.fromkeys(destination_keys, 1), now=utcnow())).first


@lru_cache(maxsize=256)
def _upsert(dialect: str, count: int) -> TextClause:
    """The upsert of `count` destination rows, as SQL text.

    Text, built once per row count: the same statement from the SQL expression
    language cost more to build and cache-key on every batch than to run (most of
    `take`'s time, profiled). The order of the assignments matters on MySQL, which
    evaluates them left to right with the values already assigned; SQLite reads the
    old row for all of them. Written in this order both see the old head_seq and
    last_seq.
    """
    rows = ", ".join(f"(:k{n}, :n{n}, 1, :ready)" for n in range(count))
    head = "INSERT INTO job_destinations (destination_key, last_seq, head_seq, ready_at)"
    if dialect == "sqlite":
        new, conflict = "excluded.", "ON CONFLICT (destination_key) DO UPDATE SET"
        ready, added = f"{new}ready_at", f"{new}last_seq"
    else:
        conflict = "ON DUPLICATE KEY UPDATE"
        ready, added = "VALUES(ready_at)", "VALUES(last_seq)"
    sql = (
        f"{head} VALUES {rows} {conflict}"
        f" ready_at = CASE WHEN head_seq IS NULL THEN {ready} ELSE ready_at END,"
        " head_seq = COALESCE(head_seq, last_seq + 1),"
        f" last_seq = last_seq + {added}"
    )
    return text(sql).bindparams(bindparam("ready", type_=UTCDateTime()))
