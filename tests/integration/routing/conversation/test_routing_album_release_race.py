"""An album released while the report of the line before it is being recorded: the
album's job must go out, whichever transaction commits first.

The release marks the album's job ready only if it is its destination's head. Under
READ COMMITTED, InnoDB lets go of a row an UPDATE does not match at once, so a release
that looked at the destination before the report moved the head there held nothing:
the report then read the album as still held (the release had not committed), parked
the head on it with nothing ready, and the destination was stuck for good (seen in the
short soak: a CR topic's album and everything behind it never sent). The release now
locks the destinations first, as every other writer of heads does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from services.routing.conversation import albums
from services.routing.db.models import JobDestination
from services.routing.outbox import destination_heads
from services.routing.outbox.outcomes import Report
from tests.integration.routing.conversation.test_routing_albums_parts import CS_KEY, _photo
from tests.integration.routing.world import (
    CS_GROUP,
    Sessions,
    client_line,
    record,
    report,
    seed_world,
    written,
)


async def _waiting_in_the_server(sessions: Sessions) -> bool:
    """A statement of another connection to this database is running: with the release
    idle and holding its locks, that is the report waiting for one (InnoDB reports a
    wait met while planning a primary-key lookup as the state "Statistics", not in
    innodb_trx)."""
    query = (
        "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE()"
        " AND command = 'Query' AND id <> CONNECTION_ID()"
    )
    async with sessions() as session:
        return bool((await session.execute(text(query))).scalar_one())


async def _until_done_or_waiting(task: asyncio.Task[object], sessions: Sessions) -> None:
    """The report either finishes (it did not need the release's locks) or waits on
    them; either way the release may commit now."""

    async def poll() -> None:
        # Another server's state: nothing to await but polling, under a deadline.
        while not task.done() and not await _waiting_in_the_server(sessions):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


@pytest.mark.parametrize("db_backend", ["mariadb"], indirect=True)
async def test_an_album_released_during_the_previous_lines_report_still_goes_out(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    await record(db_sessions, client_line("Here are the receipts", message_id=9))
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    line, album = [j for j in await written(db_sessions) if j.destination_key == CS_KEY]
    assert album.held and line.attempts == 1
    now = datetime.now(UTC) + timedelta(seconds=5)

    # The relay's pass releases the album and has not committed yet...
    async with db_sessions() as releasing, releasing.begin():
        assert await albums.release_due(releasing, now=now) == 1
        # ...when delivery reports the line before it sent.
        sent = Report(line.id, 1, "sent", sent=[(CS_GROUP, 100)])
        reporting = asyncio.create_task(report(db_sessions, sent))
        await _until_done_or_waiting(reporting, db_sessions)
    recorded = await reporting

    handed_out = {head.job_id for head in recorded.heads}
    async with db_sessions() as session, session.begin():
        handed_out |= {
            h.job_id for h in await destination_heads.take_out(session, now=now, limit=10)
        }
        dest = await session.get(JobDestination, CS_KEY)
    assert album.id in handed_out, (
        f"the album's job is parked: head_seq={dest.head_seq}, ready_at={dest.ready_at}"
    )


@pytest.mark.parametrize("db_backend", ["mariadb"], indirect=True)
async def test_a_report_first_then_the_release_still_hands_the_album_out(
    db_sessions: Sessions,
) -> None:
    """The other order: the report holds the destination, the release waits and then
    sees the album at the head."""
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    await record(db_sessions, client_line("Here are the receipts", message_id=9))
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    line, album = [j for j in await written(db_sessions) if j.destination_key == CS_KEY]
    now = datetime.now(UTC) + timedelta(seconds=5)
    sent = Report(line.id, 1, "sent", sent=[(CS_GROUP, 100)])
    assert (await report(db_sessions, sent)).heads == []  # parked: the album is held
    async with db_sessions() as session, session.begin():
        assert await albums.release_due(session, now=now) == 1
        heads = await destination_heads.take_out(session, now=now, limit=10)
    assert album.id in {h.job_id for h in heads}
    async with db_sessions() as session:
        assert (
            await session.scalar(
                select(JobDestination.ready_at).where(JobDestination.destination_key == CS_KEY)
            )
        ) is None  # out with delivery now
