"""Edits and reactions follow a line into every place it went — on both databases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select

from services.routing.conversation.batch import Incoming
from services.routing.conversation.waiting_reactions import PATIENCE, DueReactions
from services.routing.db.column_types import utcnow
from services.routing.db.enums import JobStatus, UpdateStatus
from services.routing.db.models import Copy, InboundUpdate, Message
from services.routing.outbox.claims import ClaimRequest, claim_many
from services.routing.outbox.outcomes import Report
from services.routing.records.message_destinations import Reference
from tests.integration.routing.world import (
    ANN,
    ANNA,
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
    edited,
    last_job_id,
    raw_update,
    record,
    report,
    seed_world,
    staff_line,
    written,
)

# 4,000 characters but 4,800 UTF-16 units (Telegram counts in those): two messages.
LONG = "\N{GRINNING FACE}ord " * 800
SEND_KINDS = {"send_text", "send_media", "send_album"}


async def _message(sessions: Sessions, chat_id: int, message_id: int) -> Message:
    async with sessions() as session:
        return await session.scalar(
            select(Message).where(
                Message.origin_chat_id == chat_id, Message.origin_message_id == message_id
            )
        )


async def _statuses(sessions: Sessions) -> list[UpdateStatus]:
    async with sessions() as session:
        rows = await session.scalars(select(InboundUpdate).order_by(InboundUpdate.id))
        return [row.status for row in rows]


NEW_IDS = count(500)


async def _deliver(sessions: Sessions) -> None:
    """Delivery, in short: claim every job out (with what it refers to) and report it
    sent — a send with a new message, an edit or a reaction on its target, a delete of
    its targets — until nothing is out."""
    while out := [j for j in await written(sessions) if j.status == JobStatus.DISPATCHED]:
        for job in out:
            chat = job.job.destination.chat_id
            wanted = None
            if job.job.refers_to:
                wanted = Reference(
                    job.job.refers_to, chat, job.job.refers_to_part, job.job.refers_to_all_parts
                )
            async with sessions() as session, session.begin():
                (claimed,) = await claim_many(session, [ClaimRequest(job.id, job.attempts, wanted)])
            assert claimed.claim == "proceed"
            if job.kind in SEND_KINDS:
                sent = [(chat, next(NEW_IDS))]
            elif job.kind == "delete_messages":
                ids = [*job.job.delete_messages.message_ids, *claimed.referred_ids]
                sent = [(chat, i) for i in ids]
            else:
                sent = [(chat, t) for t in claimed.referred_ids[:1]]
            assert (await report(sessions, Report(job.id, job.attempts, "sent", sent=sent))).applied


def _by_place(jobs: list[Written]) -> dict[tuple[int, int], list[tuple]]:
    """(kind, part it acts on or sends, text) of each job, by the place it goes to."""
    out: dict[tuple[int, int], list[tuple]] = {}
    for j in jobs:
        text = getattr(j.job, j.kind).text.text if j.kind in ("edit_text", "send_text") else ""
        part = j.job.part if j.kind in SEND_KINDS else j.job.refers_to_part
        out.setdefault(j.place, []).append((j.kind, part, text))
    return out


# -- edits ---------------------------------------------------------------------------------


async def test_an_edited_client_line_is_edited_in_every_topic(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = client_line("Where is my order?", message_id=5)
    await record(db_sessions, line)
    before = await last_job_id(db_sessions)
    (result,) = await record(db_sessions, edited(line, "Where is my order #12?"))
    assert (result.status, result.jobs) == ("accepted", 2)
    source = await _message(db_sessions, ANN, 5)
    jobs = await written(db_sessions, after=before)
    assert [(j.kind, j.job.bot_id, j.place) for j in jobs] == [
        ("edit_text", CS_BOT, (CS_GROUP, CS_THREAD)),
        ("edit_text", CR_BOT, (CR_GROUP, CR_THREAD)),
    ]
    assert {j.job.edit_text.text.text for j in jobs} == {"Where is my order #12?"}
    assert all(j.job.refers_to == source.id and j.job.refers_to_part == 0 for j in jobs)
    assert all(j.message_id == source.id for j in jobs)
    # Each waits behind the send of the line in its topic: it finds the copy at its claim.
    assert [(j.status, j.seq) for j in jobs] == [(JobStatus.PENDING, 2)] * 2
    assert (source.text, source.edited_at is not None) == ("Where is my order #12?", True)


async def test_a_line_and_its_edit_in_one_batch(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = client_line("typo", message_id=5)
    results = await record(db_sessions, line, edited(line, "fixed"))
    assert [r.jobs for r in results] == [2, 2]
    jobs = await written(db_sessions)
    # The edit follows the send in each topic, whose copy its claim will find.
    assert [(j.kind, j.place, j.seq) for j in jobs] == [
        ("send_text", (CS_GROUP, CS_THREAD), 1),
        ("send_text", (CR_GROUP, CR_THREAD), 1),
        ("edit_text", (CS_GROUP, CS_THREAD), 2),
        ("edit_text", (CR_GROUP, CR_THREAD), 2),
    ]
    assert (await _message(db_sessions, ANN, 5)).text == "fixed"


async def test_an_edited_staff_line_keeps_its_attribution(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = staff_line("On it", message_id=40)
    await record(db_sessions, line)
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(line, "On it, 5 minutes"))
    jobs = await written(db_sessions, after=before)
    # Not edited in the topic it was written in: only where it went.
    assert [(j.kind, j.job.bot_id, j.place) for j in jobs] == [
        ("edit_text", CLIENT_BOT, (ANN, 0)),
        ("edit_text", CR_BOT, (CR_GROUP, CR_THREAD)),
    ]
    for j in jobs:
        text = j.job.edit_text.text
        assert text.text == "Anna · CS\nOn it, 5 minutes"
        assert [(e.type, e.offset, e.length) for e in text.entities] == [("bold", 0, 9)]
    assert (await _message(db_sessions, CS_GROUP, 40)).text == "On it, 5 minutes"


async def test_an_edit_of_a_message_not_carried_writes_nothing(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("hello", message_id=5))
    before = await last_job_id(db_sessions)
    unknown = edited(client_line("never seen", message_id=77), "never seen, edited")
    (result,) = await record(db_sessions, unknown)
    assert (result.status, result.jobs, result.heads) == ("accepted", 0, ())
    assert (await _statuses(db_sessions))[-1] in (UpdateStatus.ACCEPTED, UpdateStatus.IGNORED)
    assert await written(db_sessions, after=before) == []
    assert (await _message(db_sessions, ANN, 5)).edited_at is None


async def test_an_edit_by_a_bot_is_not_carried(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = client_line("hello", message_id=5)
    await record(db_sessions, line)
    before = await last_job_id(db_sessions)
    bot_edit = edited(line, "hello?")
    bot_edit = raw_update(
        CLIENT_BOT,
        "edited_message",
        {**_message_of(bot_edit), "from": {"id": 1, "is_bot": True, "first_name": "B"}},
    )
    await record(db_sessions, bot_edit)
    assert await written(db_sessions, after=before) == []
    assert (await _message(db_sessions, ANN, 5)).text == "hello"


async def test_a_long_staff_line_edited_shorter_drops_its_surplus_part(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = staff_line(LONG, message_id=40)
    await record(db_sessions, line)
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(line, "Shorter now"))
    source = await _message(db_sessions, CS_GROUP, 40)
    jobs = await written(db_sessions, after=before)
    assert _by_place(jobs) == {
        (ANN, 0): [("edit_text", 0, "Anna · CS\nShorter now"), ("delete_messages", 1, "")],
        (CR_GROUP, CR_THREAD): [
            ("edit_text", 0, "Anna · CS\nShorter now"),
            ("delete_messages", 1, ""),
        ],
    }
    deletes = [j for j in jobs if j.kind == "delete_messages"]
    assert all(j.job.refers_to == source.id for j in deletes)
    assert all(not j.job.refers_to_all_parts for j in deletes)
    assert all(list(j.job.delete_messages.message_ids) == [] for j in deletes)


async def test_a_short_line_edited_longer_sends_the_part_it_now_needs(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = client_line("short", message_id=5)
    await record(db_sessions, line)
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(line, LONG))
    jobs = await written(db_sessions, after=before)
    for place in ((CS_GROUP, CS_THREAD), (CR_GROUP, CR_THREAD)):
        edit, rest = _by_place(jobs)[place]
        assert (edit[:2], rest[:2]) == (("edit_text", 0), ("send_text", 1))
        assert (edit[2] + " " + rest[2]).split() == LONG.split()
    # The new part is the line's too: a later edit or /delete finds it.
    source = await _message(db_sessions, ANN, 5)
    assert all(j.message_id == source.id for j in jobs)


async def test_edits_land_on_the_copies_part_by_part(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = staff_line(LONG, message_id=40)
    await record(db_sessions, line)
    await _deliver(db_sessions)
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(line, "Shorter now"))
    await _deliver(db_sessions)
    source = await _message(db_sessions, CS_GROUP, 40)
    async with db_sessions() as session:
        copies = (await session.scalars(select(Copy).order_by(Copy.id))).all()
    live = {(c.dest_chat_id, c.part) for c in copies if c.deleted_at is None}
    assert live == {(ANN, 0), (CR_GROUP, 0)}, "the surplus part went in both places"
    assert {c.message_id for c in copies} == {source.id}
    assert all(j.status == JobStatus.SUCCEEDED for j in await written(db_sessions, after=before))


async def test_a_line_shortened_then_lengthened_again_sends_its_second_part_anew(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = staff_line(LONG, message_id=40)
    await record(db_sessions, line)
    await _deliver(db_sessions)
    await record(db_sessions, edited(line, "Shorter now"))
    await _deliver(db_sessions)  # part 1 deleted in the client's chat and the CR topic
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(line, LONG + "again"))
    await _deliver(db_sessions)
    async with db_sessions() as session:
        copies = (await session.scalars(select(Copy).where(Copy.deleted_at.is_(None)))).all()
    # The new text is two messages again in each place.
    assert sorted((c.dest_chat_id, c.part) for c in copies) == [
        (CR_GROUP, 0),
        (CR_GROUP, 1),
        (ANN, 0),
        (ANN, 1),
    ]
    kinds = [
        kind_part[:2] for kind_part in _by_place(await written(db_sessions, after=before))[(ANN, 0)]
    ]
    assert kinds == [("edit_text", 0), ("send_text", 1)]


# -- reactions -------------------------------------------------------------------------------


def _reaction(
    bot_id: int, chat: dict, message_id: int, emoji: str | None, *, user: int, is_bot: bool = False
) -> Incoming:
    return raw_update(
        bot_id,
        "message_reaction",
        {
            "chat": chat,
            "message_id": message_id,
            "user": {"id": user, "is_bot": is_bot, "first_name": "U"},
            "date": 2,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}] if emoji else [],
        },
    )


CS_CHAT = {"id": CS_GROUP, "type": "supergroup", "is_forum": True}


async def _client_line_with_copies(sessions: Sessions) -> int:
    """A client line that reached the CS topic as 101 and the CR topic as 201."""
    async with sessions() as session:
        await seed_world(session)
    await record(sessions, client_line("Where is my order?", message_id=5))
    source = await _message(sessions, ANN, 5)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Copy(
                    message_id=source.id,
                    bot_id=CS_BOT,
                    dest_chat_id=CS_GROUP,
                    dest_thread_id=CS_THREAD,
                    dest_message_id=101,
                ),
                Copy(
                    message_id=source.id,
                    bot_id=CR_BOT,
                    dest_chat_id=CR_GROUP,
                    dest_thread_id=CR_THREAD,
                    dest_message_id=201,
                ),
            ]
        )
    return source.id


async def test_a_reaction_on_a_copy_is_set_everywhere_else(db_sessions: Sessions) -> None:
    source = await _client_line_with_copies(db_sessions)
    before = await last_job_id(db_sessions)
    (result,) = await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 101, "👍", user=ANNA))
    assert (result.status, result.jobs) == ("accepted", 2)
    jobs = await written(db_sessions, after=before)
    assert sorted((j.kind, j.job.bot_id, j.place) for j in jobs) == sorted(
        [
            ("set_reaction", CLIENT_BOT, (ANN, 0)),  # on the client's own message
            ("set_reaction", CR_BOT, (CR_GROUP, CR_THREAD)),
        ]
    )
    assert all(list(j.job.set_reaction.emoji) == ["👍"] for j in jobs)
    assert all(j.job.refers_to == source for j in jobs)
    assert (CS_GROUP, CS_THREAD) not in {j.place for j in jobs}, "not where it was made"


async def test_a_client_reaction_on_their_own_line_reaches_both_topics(
    db_sessions: Sessions,
) -> None:
    await _client_line_with_copies(db_sessions)
    before = await last_job_id(db_sessions)
    client_chat = {"id": ANN, "type": "private"}
    await record(db_sessions, _reaction(CLIENT_BOT, client_chat, 5, "🔥", user=ANN))
    jobs = await written(db_sessions, after=before)
    assert sorted((j.job.bot_id, j.place) for j in jobs) == sorted(
        [(CS_BOT, (CS_GROUP, CS_THREAD)), (CR_BOT, (CR_GROUP, CR_THREAD))]
    )
    assert {tuple(j.job.set_reaction.emoji) for j in jobs} == {("🔥",)}


async def test_a_reaction_by_a_bot_or_on_an_unknown_message_writes_nothing(
    db_sessions: Sessions,
) -> None:
    await _client_line_with_copies(db_sessions)
    before = await last_job_id(db_sessions)
    await record(
        db_sessions,
        _reaction(CS_BOT, CS_CHAT, 101, "👍", user=CS_BOT, is_bot=True),
        _reaction(CS_BOT, CS_CHAT, 999, "👍", user=ANNA),
    )
    assert await written(db_sessions, after=before) == []


async def test_a_reaction_taken_away_is_taken_away_everywhere(db_sessions: Sessions) -> None:
    source = await _client_line_with_copies(db_sessions)
    await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 101, "👍", user=ANNA))
    before = await last_job_id(db_sessions)
    await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 101, None, user=ANNA))
    jobs = await written(db_sessions, after=before)
    assert len(jobs) == 2
    assert {j.place for j in jobs} == {(ANN, 0), (CR_GROUP, CR_THREAD)}
    for j in jobs:
        assert j.job.WhichOneof("action") == "set_reaction"
        assert (list(j.job.set_reaction.emoji), j.job.refers_to) == ([], source)


def _message_of(incoming: Incoming) -> dict:
    body = json.loads(incoming.raw)
    return body.get("message") or body["edited_message"]


# -- reactions on a copy whose send is not reported yet ------------------------------------


async def _release_waiting(sessions: Sessions, *, now: datetime | None = None) -> None:
    async with sessions() as session, session.begin():
        await DueReactions().release_due(session, now=now or utcnow())


async def _report_cs_copy(sessions: Sessions, message_id: int) -> None:
    """Delivery's report that the client line's CS copy went out as `message_id`."""
    (job,) = [
        j
        for j in await written(sessions)
        if j.place == (CS_GROUP, CS_THREAD) and j.status == JobStatus.DISPATCHED
    ]
    async with sessions() as session, session.begin():
        (claimed,) = await claim_many(session, [ClaimRequest(job.id, job.attempts, None)])
    assert claimed.claim == "proceed"
    sent = [(CS_GROUP, message_id)]
    assert (await report(sessions, Report(job.id, job.attempts, "sent", sent=sent))).applied


async def test_a_reaction_before_its_copy_is_reported_waits_and_then_is_mirrored(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("Where is my order?", message_id=5))
    before = await last_job_id(db_sessions)
    # Staff react to the copy Telegram shows as 777 before delivery's report is in.
    (result,) = await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 777, "👍", user=ANNA))
    assert (result.status, result.jobs) == ("accepted", 0)
    assert (await _statuses(db_sessions))[-1] == UpdateStatus.WAITING
    await _release_waiting(db_sessions)
    assert await written(db_sessions, after=before) == [], "still no copy known: it waits"

    await _report_cs_copy(db_sessions, 777)
    await _release_waiting(db_sessions)
    jobs = await written(db_sessions, after=before)
    assert sorted((j.kind, j.place) for j in jobs) == sorted(
        [("set_reaction", (ANN, 0)), ("set_reaction", (CR_GROUP, CR_THREAD))]
    )
    assert [list(j.job.set_reaction.emoji) for j in jobs] == [["👍"]] * 2
    assert (await _statuses(db_sessions))[-1] == UpdateStatus.ACCEPTED
    await _release_waiting(db_sessions)
    assert len(await written(db_sessions, after=before)) == 2, "mirrored once"


async def test_a_later_reaction_on_a_waiting_copy_keeps_its_place(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("Where is my order?", message_id=5))
    before = await last_job_id(db_sessions)
    await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 778, "👍", user=ANNA))
    await _report_cs_copy(db_sessions, 778)
    # The copy is known now, but the first reaction still waits: the second may not
    # overtake it (it would be overwritten by the older one).
    (second,) = await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 778, "🔥", user=ANNA))
    assert second.jobs == 0
    await _release_waiting(db_sessions)
    jobs = [j for j in await written(db_sessions, after=before) if j.place == (ANN, 0)]
    assert [list(j.job.set_reaction.emoji) for j in jobs] == [["👍"], ["🔥"]]
    assert (await _statuses(db_sessions))[-2:] == [UpdateStatus.ACCEPTED] * 2


async def test_a_reaction_on_a_message_never_carried_is_let_go(db_sessions: Sessions) -> None:
    await _client_line_with_copies(db_sessions)
    before = await last_job_id(db_sessions)
    await record(db_sessions, _reaction(CS_BOT, CS_CHAT, 999, "👍", user=ANNA))
    await _release_waiting(db_sessions)
    assert (await _statuses(db_sessions))[-1] == UpdateStatus.WAITING
    await _release_waiting(db_sessions, now=utcnow() + PATIENCE + timedelta(seconds=1))
    assert (await _statuses(db_sessions))[-1] == UpdateStatus.IGNORED
    assert await written(db_sessions, after=before) == []
    async with db_sessions() as session:
        assert await DueReactions().next_due(session) is None, "nothing waits: no more passes"
