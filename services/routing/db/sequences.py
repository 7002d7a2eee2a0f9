"""Sequence numbers for outbox jobs, one counter per destination."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import JobDestination


async def next_sequences(session: AsyncSession, destination_keys: Iterable[str]) -> dict[str, int]:
    """Take the next sequence number of each destination, in the session's transaction.

    The counter row stays locked until the transaction ends, so a concurrent writer to
    the same destination waits and gets the following number: sequence order is
    commit order, and the relay never sees a job appear behind a later one. Keys are
    taken in sorted order so two writers never wait on each other crosswise.
    """
    dialect = session.get_bind().dialect.name
    taken: dict[str, int] = {}
    for key in sorted(set(destination_keys)):
        # One atomic upsert: a first-time destination needs no insert-or-retry dance
        # (which deadlocks on InnoDB when several writers race to create the row).
        await session.execute(_bump(dialect, key))
        last = select(JobDestination.last_seq).where(JobDestination.destination_key == key)
        taken[key] = (await session.execute(last)).scalar_one()
    return taken


def _bump(dialect: str, key: str) -> Insert:
    row = {"destination_key": key, "last_seq": 1}
    incremented = {"last_seq": JobDestination.last_seq + 1}
    if dialect == "sqlite":
        return (
            sqlite_insert(JobDestination)
            .values(row)
            .on_conflict_do_update(index_elements=["destination_key"], set_=incremented)
        )
    return mysql_insert(JobDestination).values(row).on_duplicate_key_update(incremented)
