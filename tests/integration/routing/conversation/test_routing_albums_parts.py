"""Albums (items gathered, then sent as one in the album's place) and long texts (sent
as parts, each mapped to its own copy) — on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.routing.conversation import albums
from services.routing.conversation.batch import Incoming
from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, JobDestination, Message, PendingAlbum
from services.routing.domain.attribution import utf16_len
from services.routing.outbox import destination_heads
from services.routing.outbox.claims import ClaimRequest, claim_many
from services.routing.outbox.outcomes import Report
from services.routing.records.message_destinations import Reference
from switchboard.delivery.v1 import job_pb2
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    Written,
    client_line,
    last_job_id,
    raw_update,
    record,
    report,
    seed_world,
    staff_line,
    written,
)

CS_KEY = f"chat:{CS_GROUP}:thread:{CS_THREAD}"
CR_KEY = f"chat:{CR_GROUP}:thread:{CR_THREAD}"
# 3,999 characters but 4,799 UTF-16 units (Telegram counts in those): two messages.
LONG = " ".join(f"\N{GRINNING FACE}{n:03}" for n in range(800))


def _photo(message_id: int, *, group: str = "g1", caption: str = "") -> Incoming:
    """An album item Ann sent: Telegram sends each as a message of its own."""
    message = {
        "message_id": message_id,
        "date": 1,
        "chat": {"id": ANN, "type": "private"},
        "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
        "media_group_id": group,
        "photo": [
            {
                "file_id": f"small{message_id}",
                "file_unique_id": f"s{message_id}",
                "width": 90,
                "height": 90,
            },
            {
                "file_id": f"big{message_id}",
                "file_unique_id": f"b{message_id}",
                "width": 800,
                "height": 800,
            },
        ],
    }
    if caption:
        message["caption"] = caption
    return raw_update(CLIENT_BOT, "message", message)


async def _ids(sessions: Sessions, *origin_ids: int) -> list[int]:
    """The backed-up messages of Ann's messages, in the order asked."""
    async with sessions() as session:
        rows = await session.execute(
            select(Message.origin_message_id, Message.id).where(Message.origin_chat_id == ANN)
        )
        found = dict(rows.all())
    return [found[i] for i in origin_ids]


async def _pending(sessions: Sessions) -> list[PendingAlbum]:
    async with sessions() as session:
        return list(await session.scalars(select(PendingAlbum)))


async def _ready_at(sessions: Sessions, key: str) -> datetime | None:
    async with sessions() as session:
        return (await session.get(JobDestination, key)).ready_at


async def _release(sessions: Sessions, now: datetime) -> int:
    async with sessions() as session, session.begin():
        return await albums.release_due(session, now=now)


async def _take_out(sessions: Sessions, now: datetime) -> list[destination_heads.Head]:
    async with sessions() as session, session.begin():
        return await destination_heads.take_out(session, now=now, limit=10)


def _assert_held(jobs: list[Written], first: int) -> None:
    """One placeholder per staff topic, for the album's first item, not handed out."""
    assert [(j.kind, j.job.bot_id, j.place) for j in jobs] == [
        ("send_album", CS_BOT, (CS_GROUP, CS_THREAD)),
        ("send_album", CR_BOT, (CR_GROUP, CR_THREAD)),
    ]
    for j in jobs:
        assert (j.held, j.status, j.attempts, j.message_id) == (True, JobStatus.PENDING, 0, first)
        assert j.job.WhichOneof("action") is None, "the items come when it is released"


async def _released_album_is_sent_and_mapped(
    sessions: Sessions, items: list[int], window_end: datetime
) -> None:
    """Release the album after its window, check the jobs, report the CS one sent."""
    assert await _release(sessions, window_end - timedelta(milliseconds=500)) == 0, "too early"
    assert all(j.held for j in await written(sessions))
    now = window_end + timedelta(seconds=1)
    assert await _release(sessions, now) == 1
    assert await _pending(sessions) == []
    jobs = await written(sessions)
    for j in jobs:
        assert (j.kind, j.held, j.status) == ("send_album", False, JobStatus.PENDING)
        album = j.job.send_album.items
        assert [(i.kind, i.source_message_id, i.file_id, i.source_bot_id) for i in album] == [
            ("photo", items[0], "big10", CLIENT_BOT),
            ("photo", items[1], "big11", CLIENT_BOT),
            ("photo", items[2], "big12", CLIENT_BOT),
        ]
        assert [i.caption.text for i in album] == ["receipts", "", ""]
    # At the head of their topics: ready at once.
    assert await _ready_at(sessions, CS_KEY) == now
    assert await _ready_at(sessions, CR_KEY) == now
    heads = {h.destination_key: h for h in await _take_out(sessions, now)}
    assert sorted(heads) == sorted([CS_KEY, CR_KEY])
    cs = heads[CS_KEY]
    sent = [(CS_GROUP, 301), (CS_GROUP, 302), (CS_GROUP, 303)]
    assert (await report(sessions, Report(cs.job_id, cs.attempts, "sent", sent=sent))).applied
    async with sessions() as session:
        copies = (await session.scalars(select(Copy).order_by(Copy.dest_message_id))).all()
    assert [(c.message_id, c.dest_message_id, c.part, c.job_id) for c in copies] == [
        (items[0], 301, 0, cs.job_id),
        (items[1], 302, 0, cs.job_id),
        (items[2], 303, 0, cs.job_id),
    ]


async def test_an_album_in_one_batch_is_held_then_sent_as_one(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    started = datetime.now(UTC)
    results = await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    assert [(r.status, r.jobs, r.heads) for r in results] == [
        ("accepted", 2, ()),
        ("accepted", 0, ()),
        ("accepted", 0, ()),
    ]
    assert results[0].wake, "the relay is to be woken to release it"
    items = await _ids(db_sessions, 10, 11, 12)
    _assert_held(await written(db_sessions), items[0])
    (pending,) = await _pending(db_sessions)
    assert (pending.bot_id, pending.origin_chat_id, pending.media_group_id) == (
        CLIENT_BOT,
        ANN,
        "g1",
    )
    assert pending.first_message_id == items[0]
    assert started + albums.WINDOW <= pending.due_at <= datetime.now(UTC) + albums.WINDOW
    await _released_album_is_sent_and_mapped(db_sessions, items, pending.due_at)


async def test_an_album_over_three_batches_is_held_by_its_first_item(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    (first,) = await record(db_sessions, _photo(10, caption="receipts"))
    (due_first,) = [p.due_at for p in await _pending(db_sessions)]
    (second,) = await record(db_sessions, _photo(11))
    (third,) = await record(db_sessions, _photo(12))
    assert [(r.jobs, r.wake) for r in (first, second, third)] == [(2, True), (0, False), (0, False)]
    items = await _ids(db_sessions, 10, 11, 12)
    _assert_held(await written(db_sessions), items[0])
    (pending,) = await _pending(db_sessions)
    assert pending.first_message_id == items[0]
    assert pending.due_at >= due_first, "each item pushes the album's window back"
    await _released_album_is_sent_and_mapped(db_sessions, items, pending.due_at)


async def test_an_album_keeps_its_place_behind_an_earlier_line(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("Here are the receipts", message_id=9))
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    line, held = [j for j in await written(db_sessions) if j.destination_key == CS_KEY]
    assert (line.status, held.held, held.seq) == (JobStatus.DISPATCHED, True, 2)
    # The line is sent before the album is released: the album is next, but parked.
    recorded = await report(db_sessions, Report(line.id, 1, "sent", sent=[(CS_GROUP, 100)]))
    assert recorded.heads == []
    async with db_sessions() as session:
        dest = await session.get(JobDestination, CS_KEY)
    assert (dest.head_seq, dest.ready_at) == (held.seq, None)
    now = datetime.now(UTC) + timedelta(seconds=5)
    assert await _release(db_sessions, now) == 1
    heads = await _take_out(db_sessions, now)
    assert held.id in {h.job_id for h in heads}


async def test_a_reply_to_an_album_item_finds_that_items_copy(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    now = datetime.now(UTC) + timedelta(seconds=5)
    await _release(db_sessions, now)
    cs = next(h for h in await _take_out(db_sessions, now) if h.destination_key == CS_KEY)
    sent = [(CS_GROUP, 301), (CS_GROUP, 302), (CS_GROUP, 303)]
    await report(db_sessions, Report(cs.job_id, cs.attempts, "sent", sent=sent))
    # Anna replies in the CS topic to the second photo: the client sees a reply to it.
    before = await last_job_id(db_sessions)
    await record(db_sessions, staff_line("This one is blurry", message_id=50, reply_to=302))
    to_client = next(j for j in await written(db_sessions, after=before) if j.place == (ANN, 0))
    second = (await _ids(db_sessions, 11))[0]
    assert to_client.job.refers_to == second
    async with db_sessions() as session, session.begin():
        (claimed,) = await claim_many(
            session, [ClaimRequest(to_client.id, 1, Reference(second, ANN))]
        )
    assert (claimed.claim, claimed.referred_ids) == ("proceed", (11,))


async def test_an_item_after_its_album_went_does_not_send_the_album_again(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11))
    now = datetime.now(UTC) + timedelta(seconds=5)
    assert await _release(db_sessions, now) == 1
    before = await last_job_id(db_sessions)
    await record(db_sessions, _photo(12))  # late: its album is already on its way
    await _release(db_sessions, now + timedelta(seconds=5))
    late = (await _ids(db_sessions, 12))[0]
    for j in await written(db_sessions, after=before):
        sent = [i.source_message_id for i in j.job.send_album.items] or [
            j.job.send_media.source_message_id
        ]
        assert sent == [late], "only the late item is still to send"


# -- parts -------------------------------------------------------------------------------------


def _text(j: Written) -> str:
    return j.job.send_text.text.text


async def test_a_long_staff_text_goes_as_two_parts_everywhere(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    (result,) = await record(db_sessions, staff_line(LONG, message_id=40))
    assert result.jobs == 4
    jobs = await written(db_sessions)
    assert [(j.kind, j.place, j.job.part, j.seq) for j in jobs] == [
        ("send_text", (ANN, 0), 0, 1),
        ("send_text", (ANN, 0), 1, 2),
        ("send_text", (CR_GROUP, CR_THREAD), 0, 1),
        ("send_text", (CR_GROUP, CR_THREAD), 1, 2),
    ]
    for first, second in (jobs[0:2], jobs[2:4]):
        assert _text(first).startswith("Anna · CS\n")
        assert not _text(second).startswith("Anna")
        assert all(utf16_len(_text(j)) <= 4096 for j in (first, second))
        assert (_text(first) + " " + _text(second)).split() == ["Anna", "·", "CS", *LONG.split()]
        # Only the first part is out; the second follows it.
        assert (first.status, second.status) == (JobStatus.DISPATCHED, JobStatus.PENDING)
        assert first.message_id == second.message_id


async def test_each_part_sent_maps_to_its_own_copy(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, staff_line(LONG, message_id=40))
    jobs = await written(db_sessions)
    first = next(j for j in jobs if j.place == (ANN, 0) and j.job.part == 0)
    recorded = await report(db_sessions, Report(first.id, 1, "sent", sent=[(ANN, 300)]))
    (second,) = recorded.heads  # the next part goes out as soon as the first is sent
    assert job_part(second.payload) == 1
    await report(db_sessions, Report(second.job_id, 1, "sent", sent=[(ANN, 301)]))
    async with db_sessions() as session:
        copies = (await session.scalars(select(Copy).order_by(Copy.id))).all()
        source = await session.scalar(select(Message).where(Message.origin_message_id == 40))
    assert [(c.message_id, c.dest_chat_id, c.dest_message_id, c.part) for c in copies] == [
        (source.id, ANN, 300, 0),
        (source.id, ANN, 301, 1),
    ]
    # A /delete (every part) or an edit of part 1 finds them.
    cr = next(j for j in jobs if j.place == (CR_GROUP, CR_THREAD) and j.job.part == 0)
    async with db_sessions() as session, session.begin():
        (claimed,) = await claim_many(
            session, [ClaimRequest(cr.id, 1, Reference(source.id, ANN, all_parts=True))]
        )
    assert claimed.referred_ids == (300, 301)


async def test_a_long_client_text_goes_as_parts_without_a_name(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line(LONG, message_id=5))
    jobs = await written(db_sessions)
    assert [(j.place, j.job.part) for j in jobs] == [
        ((CS_GROUP, CS_THREAD), 0),
        ((CS_GROUP, CS_THREAD), 1),
        ((CR_GROUP, CR_THREAD), 0),
        ((CR_GROUP, CR_THREAD), 1),
    ]
    assert (_text(jobs[0]) + " " + _text(jobs[1])).split() == LONG.split()


async def test_a_reply_rides_on_the_first_part_only(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("Refund?", message_id=5))
    (source,) = await _ids(db_sessions, 5)
    async with db_sessions() as session, session.begin():
        session.add(
            Copy(
                message_id=source,
                bot_id=CS_BOT,
                dest_chat_id=CS_GROUP,
                dest_thread_id=CS_THREAD,
                dest_message_id=1500,
            )
        )
    before = await last_job_id(db_sessions)
    # Anna answers at length, replying to the client's line in the CS topic.
    await record(db_sessions, staff_line(LONG, message_id=41, reply_to=1500))
    jobs = await written(db_sessions, after=before)
    assert sorted((j.place, j.job.part, j.job.refers_to) for j in jobs) == sorted(
        [
            ((ANN, 0), 0, source),
            ((ANN, 0), 1, 0),
            ((CR_GROUP, CR_THREAD), 0, source),
            ((CR_GROUP, CR_THREAD), 1, 0),
        ]
    )


async def test_a_long_staff_caption_goes_as_media_then_text(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    # A photo has a caption, and no text.
    message = json.loads(staff_line("", message_id=40).raw)["message"]
    del message["text"]
    photo = raw_update(
        CS_BOT,
        "message",
        {
            **message,
            "photo": [{"file_id": "p", "file_unique_id": "up", "width": 1, "height": 1}],
            "caption": LONG[:3000],
        },
    )
    await record(db_sessions, photo)
    to_client = [j for j in await written(db_sessions) if j.place == (ANN, 0)]
    assert [(j.kind, j.job.part) for j in to_client] == [("send_media", 0), ("send_text", 1)]
    caption = to_client[0].job.send_media.caption.text
    assert caption.startswith("Anna · CS\n") and utf16_len(caption) <= 1024
    assert (caption + " " + _text(to_client[1])).split() == [
        "Anna",
        "·",
        "CS",
        *LONG[:3000].split(),
    ]


async def test_a_client_message_with_no_text_does_not_fail_its_batch(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    dice = raw_update(
        CLIENT_BOT,
        "message",
        {
            "message_id": 5,
            "date": 1,
            "chat": {"id": ANN, "type": "private"},
            "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
            "dice": {"emoji": "🎲", "value": 3},
        },
    )
    results = await record(db_sessions, dice, client_line("Did you get that?", message_id=6))
    assert [r.status for r in results] == ["accepted", "accepted"]
    texts = [_text(j) for j in await written(db_sessions) if j.kind == "send_text"]
    assert texts.count("Did you get that?") == 2


def job_part(payload: bytes) -> int:
    return job_pb2.DeliveryJob.FromString(payload).part
