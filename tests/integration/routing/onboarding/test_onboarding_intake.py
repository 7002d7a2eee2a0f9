"""A client who is nobody's customer yet writes to the client bot: what is kept, what
they are told, and how their email tries are counted — on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.db.enums import CustomerStatus, EmailCheckResult, UpdateStatus
from services.routing.db.models import Copy, EmailCheck, InboundUpdate, Message
from services.routing.domain.onboarding import Texts
from services.routing.onboarding import intake
from services.routing.outbox.outcomes import Report
from services.routing.wiring import conversation_options
from tests.integration.routing.onboarding_world import (
    BOB,
    CLIENT_BOT,
    EVE,
    check_emails,
    customer_of,
    email_checks,
    photo,
    rows,
    says,
    seed_world,
    seen,
)
from tests.integration.routing.world import (
    Sessions,
    edited,
    last_job_id,
    record,
    report,
    written,
)

TEXTS = Texts()


async def _told(sessions: Sessions, user: int, *, after: int = 0) -> list[str]:
    """What the client bot wrote to `user`, in order."""
    return [
        text for _, place, text in seen(await written(sessions, after=after)) if place == (user, 0)
    ]


async def test_a_first_plain_line_makes_a_pending_customer_and_is_kept(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    (result,) = await record(
        db_sessions, says(BOB, "My invoice is wrong", message_id=1, name="Bobby", username="bobby")
    )
    assert (result.status, result.jobs, result.check) == ("accepted", 1, False)
    bob = await customer_of(db_sessions, BOB)
    assert (bob.status, bob.display_name, bob.username, bob.email) == (
        CustomerStatus.PENDING,
        "Bobby",
        "bobby",
        None,
    )
    (kept,) = await rows(db_sessions, Message)
    assert (kept.customer_id, kept.text, kept.awaiting_assignment) == (
        bob.id,
        "My invoice is wrong",
        True,
    )
    # Asked for the email, by the client bot, in the private chat; nothing for staff.
    assert seen(await written(db_sessions)) == [("send_text", (BOB, 0), TEXTS.kept_before_email)]
    assert (await written(db_sessions))[0].job.bot_id == CLIENT_BOT


async def test_media_before_the_email_is_kept_and_start_asks_every_time(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    await record(db_sessions, says(BOB, "/start", message_id=1))
    await record(db_sessions, photo(BOB, "my receipt", message_id=2))
    await record(db_sessions, says(BOB, "/start@client_bot", message_id=3))
    await record(db_sessions, says(BOB, "/START", message_id=4))
    assert await _told(db_sessions, BOB) == [
        TEXTS.ask_email,
        TEXTS.kept_before_email,
        TEXTS.ask_email,
        TEXTS.ask_email,
    ]
    kept = await rows(db_sessions, Message)
    assert [(m.kind, m.text, m.awaiting_assignment) for m in kept] == [
        ("photo", "my receipt", True)
    ]
    assert kept[0].media["file_id"] == "ph-2"
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.PENDING


async def test_lines_from_a_bot_are_ignored(db_sessions: Sessions) -> None:
    await seed_world(db_sessions)
    (result,) = await record(db_sessions, says(BOB, "/start", message_id=1, is_bot=True))
    assert (result.status, result.jobs) == ("accepted", 0)
    assert await customer_of(db_sessions, BOB) is None
    assert await written(db_sessions) == []
    (update,) = await rows(db_sessions, InboundUpdate)
    assert update.status == UpdateStatus.IGNORED
    assert await rows(db_sessions, Message) == []


async def test_an_email_is_checked_and_a_malformed_one_uses_no_try(db_sessions: Sessions) -> None:
    await seed_world(db_sessions)
    for n, typo in enumerate(("a@", "x@y", "bob@@example.com"), start=1):
        (result,) = await record(db_sessions, says(BOB, typo, message_id=n))
        assert result.check is False
    assert await _told(db_sessions, BOB) == [TEXTS.not_an_email] * 3
    assert await email_checks(db_sessions, BOB) == []
    assert await rows(db_sessions, Message) == []  # a mistyped address is not a line

    (result,) = await record(db_sessions, says(BOB, "  Nobody@Example.com ", message_id=9))
    assert result.check is True
    (check,) = await email_checks(db_sessions, BOB)
    assert (check.email, check.result, check.attempts) == (
        "nobody@example.com",
        EmailCheckResult.PENDING,
        0,
    )


async def _tried(sessions: Sessions, user: int, *ages: timedelta) -> None:
    """Email tries `user` made that long ago."""
    customer = await customer_of(sessions, user)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        session.add_all(
            EmailCheck(
                telegram_user_id=user,
                customer_id=customer.id,
                email=f"old{n}@example.com",
                result=EmailCheckResult.UNKNOWN,
                created_at=now - age,
            )
            for n, age in enumerate(ages)
        )


async def test_the_limit_counts_the_last_hour_only_and_says_how_long_to_wait(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    rules = intake.Rules(tries_per_hour=3)
    options = conversation_options(rules=rules)
    await record(db_sessions, says(EVE, "/start", message_id=1), options=options)
    # Three tries over an hour ago do not count; two in the last hour do.
    minutes = timedelta(minutes=1)
    await _tried(db_sessions, EVE, 61 * minutes, 90 * minutes, 300 * minutes)
    await _tried(db_sessions, EVE, 50 * minutes, 20 * minutes)
    before = await last_job_id(db_sessions)

    (third,) = await record(
        db_sessions, says(EVE, "eve@example.com", message_id=2), options=options
    )
    assert third.check is True  # the last try of the hour
    await check_emails(db_sessions, rules=rules)
    assert await _told(db_sessions, EVE, after=before) == [
        "We could not find an account with eve@example.com. Please check the address and "
        "send it again (0 tries left this hour)."
    ]
    before = await last_job_id(db_sessions)
    (fourth,) = await record(
        db_sessions, says(EVE, "zoe@example.com", message_id=3), options=options
    )
    assert fourth.check is False
    # The oldest try that counts was 50 minutes ago: ten minutes to wait.
    assert await _told(db_sessions, EVE, after=before) == [
        "Too many tries for now. Please send your email address again in 10 min."
    ]
    assert len(await email_checks(db_sessions, EVE)) == 6  # the refused one is not a try
    # A typo after the limit is still only a typo.
    before = await last_job_id(db_sessions)
    await record(db_sessions, says(EVE, "a@", message_id=4), options=options)
    assert await _told(db_sessions, EVE, after=before) == [TEXTS.not_an_email]


async def test_unknown_answers_count_down_the_tries_left(db_sessions: Sessions) -> None:
    await seed_world(db_sessions)
    await record(db_sessions, says(EVE, "hello", message_id=1))
    said = []
    for n, email in enumerate(("eve@example.com", "eve@example.org"), start=2):
        before = await last_job_id(db_sessions)
        await record(db_sessions, says(EVE, email, message_id=n))
        await check_emails(db_sessions)
        said += await _told(db_sessions, EVE, after=before)
    assert said == [
        "We could not find an account with eve@example.com. Please check the address and "
        "send it again (4 tries left this hour).",
        "We could not find an account with eve@example.org. Please check the address and "
        "send it again (3 tries left this hour).",
    ]
    assert (await customer_of(db_sessions, EVE)).status == CustomerStatus.PENDING


async def test_a_kept_line_edited_is_kept_as_edited_and_the_bots_answer_is_no_copy_of_it(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    line = says(BOB, "My invoice is wrong", message_id=1)
    await record(db_sessions, line)
    (answer,) = await written(db_sessions)
    # Delivered: the bot's answer is its own message, not a copy of the client's line.
    await report(db_sessions, Report(answer.id, 1, "sent", sent=[(BOB, 77)]))
    assert await rows(db_sessions, Copy) == []

    before = await last_job_id(db_sessions)
    (result,) = await record(db_sessions, edited(line, "My invoice #12 is wrong"))
    assert (result.status, result.jobs) == ("accepted", 0)  # nowhere to edit it yet
    assert await written(db_sessions, after=before) == []
    (kept,) = await rows(db_sessions, Message)
    assert (kept.text, kept.awaiting_assignment) == ("My invoice #12 is wrong", True)
