"""The email checker against the directory table and against a real HTTP directory
service: what it finds, what it cannot, and a service that is down — on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from services.routing.db.enums import AssignmentStatus, CustomerStatus, EmailCheckResult
from services.routing.db.models import Assignment, EmailCheck
from services.routing.domain.onboarding import Texts
from services.routing.onboarding.directory import Account, DirectoryUnavailable, HttpDirectory
from services.routing.onboarding.email_checker import EmailChecker
from switchboard.common.v1 import common_pb2
from tests.integration.routing.onboarding_world import (
    BOB,
    CS_BOT,
    CS_GROUP,
    DAN,
    EVE,
    INTAKE,
    ZOE,
    Handed,
    audit,
    check_emails,
    customer_of,
    email_checks,
    rows,
    says,
    seed_world,
    seen,
)
from tests.integration.routing.world import Sessions, last_job_id, record, written

TEXTS = Texts()
TOKEN = "Bearer s3cret-directory-token"


def _unknown(email: str, left: str) -> str:
    return (
        f"We could not find an account with {email}. Please check the address and send "
        f"it again ({left} left this hour)."
    )


async def test_the_table_directory_knows_an_active_account_only(db_sessions: Sessions) -> None:
    world = await seed_world(db_sessions)
    for user, email in (
        (BOB, "bob@example.com"),
        (EVE, "eve@example.com"),
        (DAN, "gone@example.com"),
    ):
        await record(db_sessions, says(user, email, message_id=1, name="Client"))
    handed = await check_emails(db_sessions)

    jobs = await written(db_sessions)
    assert sorted(handed.job_ids) == [j.id for j in jobs]  # each a head of its own place
    bob = await customer_of(db_sessions, BOB)
    (request,) = await rows(db_sessions, Assignment)
    assert seen(jobs) == [
        (
            "send_text",
            (BOB, 0),
            "Thanks, Bob Builder! We found your account. A member of our "
            "team will confirm it shortly — you can already write your "
            "question here.",
        ),
        (
            "send_text",
            (CS_GROUP, INTAKE),
            "🆕 A client is waiting for confirmation\n"
            "Name: Bob Builder\nEmail: bob@example.com\n"
            f"Telegram: id {BOB}\nTreatment: yes",
        ),
        ("send_text", (EVE, 0), _unknown("eve@example.com", "4 tries")),
        ("send_text", (DAN, 0), _unknown("gone@example.com", "4 tries")),  # inactive: unknown
    ]
    assert (jobs[1].job.bot_id, jobs[1].job.lane) == (CS_BOT, common_pb2.LANE_CS_PROMPTS)
    keyboard = [
        [(b.text, b.callback_data) for b in row.buttons]
        for row in jobs[1].job.send_text.reply_markup.rows
    ]
    one, two = world.teams["CR One"], world.teams["CR Two"]
    assert keyboard == [
        [("✅ CR One", f"ob:{request.id}:t:{one}"), ("✅ CR Two", f"ob:{request.id}:t:{two}")],
        [("❌ Reject", f"ob:{request.id}:r")],
    ]
    assert (bob.status, bob.display_name, bob.email, bob.external_id, bob.treatment) == (
        CustomerStatus.PENDING,
        "Bob Builder",
        "bob@example.com",
        "u-100",
        True,
    )
    assert (request.customer_id, request.status) == (bob.id, AssignmentStatus.PENDING)
    results = {u: [c.result for c in await email_checks(db_sessions, u)] for u in (BOB, EVE, DAN)}
    assert results == {
        BOB: [EmailCheckResult.KNOWN],
        EVE: [EmailCheckResult.UNKNOWN],
        DAN: [EmailCheckResult.UNKNOWN],
    }
    assert await audit(db_sessions) == [("customer.email_verified", "client", str(BOB), None)]
    # Nothing left to check: another pass writes nothing.
    before = await last_job_id(db_sessions)
    assert (await check_emails(db_sessions)).job_ids == []
    assert await last_job_id(db_sessions) == before


# -- a directory service over HTTP ---------------------------------------------------------


@dataclass
class Service:
    """A directory service: answers by email, as told; records what it was asked."""

    url: str
    answers: dict[str, object] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)  # (email, Authorization)
    hold: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    box: list[Service] = []

    async def lookup(request: web.Request) -> web.StreamResponse:
        me = box[0]
        email = request.query.get("email", "")
        me.asked.append((email, request.headers.get("Authorization", "")))
        answer = me.answers.get(email, 404)
        if answer == "hang":  # longer than the client's timeout
            await me.hold.wait()
            return web.json_response({"found": False})
        if isinstance(answer, int):
            return web.Response(status=answer, text="no")
        if isinstance(answer, str):
            return web.Response(text=answer, content_type="text/html")
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/users/lookup", lookup)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    box.append(Service(str(server.make_url("/users/lookup"))))
    yield box[0]
    box[0].hold.set()
    await server.close()


@pytest.fixture
async def directory(service: Service) -> AsyncIterator[HttpDirectory]:
    found = HttpDirectory(service.url, timeout=0.5, auth_header=f"Authorization: {TOKEN}")
    yield found
    await found.close()


async def test_the_http_directory_follows_its_contract(
    service: Service, directory: HttpDirectory
) -> None:
    service.answers = {
        "bob@example.com": {
            "found": True,
            "full_name": " Bob Builder ",
            "external_id": 42,
            "treatment": True,
        },
        "nobody@example.com": {"found": False},
        "broken@example.com": 500,
        "slow@example.com": "hang",
        "html@example.com": "<html>maintenance</html>",
        "odd@example.com": {"user": "bob"},
        "nameless@example.com": {"found": True, "full_name": ""},
    }
    assert await directory.lookup("bob@example.com") == Account("Bob Builder", "42", True)
    assert await directory.lookup("nobody@example.com") is None
    assert await directory.lookup("missing@example.com") is None  # 404
    reasons = {}
    for email in (
        "broken@example.com",
        "slow@example.com",
        "html@example.com",
        "odd@example.com",
        "nameless@example.com",
    ):
        with pytest.raises(DirectoryUnavailable) as raised:
            await directory.lookup(email)
        reasons[email] = str(raised.value)
    assert reasons == {
        "broken@example.com": "directory answered HTTP 500",
        "slow@example.com": "directory unreachable: TimeoutError",
        "html@example.com": "directory unreachable: JSONDecodeError",
        "odd@example.com": "directory answered something other than the contract",
        "nameless@example.com": "directory found the user but gave no full_name",
    }
    assert {auth for _, auth in service.asked} == {TOKEN}
    assert [email for email, _ in service.asked][:3] == [
        "bob@example.com",
        "nobody@example.com",
        "missing@example.com",
    ]


async def _due_now(sessions: Sessions) -> None:
    """Make every check waiting for a retry due (rather than wait out its backoff)."""
    async with sessions() as session, session.begin():
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(
            update(EmailCheck).where(EmailCheck.retry_at.is_not(None)).values(retry_at=past)
        )


async def test_a_directory_that_is_down_is_asked_again_and_the_client_told_once(
    db_sessions: Sessions, service: Service, directory: HttpDirectory
) -> None:
    await seed_world(db_sessions)
    await record(db_sessions, says(ZOE, "zoe@example.com", message_id=1))
    handed = Handed()
    checker = EmailChecker(db_sessions, directory, handed)
    service.answers = {"zoe@example.com": 503}

    started = datetime.now(UTC)
    wait = await checker.pass_once()
    (check,) = await email_checks(db_sessions, ZOE)
    assert (check.result, check.attempts) == (EmailCheckResult.PENDING, 1)
    assert started + timedelta(seconds=1.5) < check.retry_at < started + timedelta(seconds=3)
    assert 0 < wait <= 2.0  # the checker looks again when the retry is due
    jobs = await written(db_sessions)
    assert seen(jobs) == [("send_text", (ZOE, 0), TEXTS.directory_down)]
    assert handed.job_ids == [jobs[0].id]
    # Not due yet: not asked again.
    await checker.pass_once()
    assert len(service.asked) == 1

    service.answers = {"zoe@example.com": "hang"}  # a timeout is being down too
    await _due_now(db_sessions)
    await checker.pass_once()
    (check,) = await email_checks(db_sessions, ZOE)
    assert (check.result, check.attempts) == (EmailCheckResult.PENDING, 2)
    assert check.retry_at > datetime.now(UTC) + timedelta(seconds=3)  # backing off
    assert len(await written(db_sessions)) == 1  # told once only

    service.answers = {"zoe@example.com": {"found": True, "full_name": "Zoe Zed"}}
    await _due_now(db_sessions)
    await checker.pass_once()
    (check,) = await email_checks(db_sessions, ZOE)
    assert (check.result, check.attempts, check.retry_at) == (EmailCheckResult.KNOWN, 2, None)
    jobs = await written(db_sessions)
    assert [(place, text.split("\n")[0]) for _, place, text in seen(jobs)] == [
        ((ZOE, 0), TEXTS.directory_down),
        ((ZOE, 0), TEXTS.found.format(name="Zoe Zed")),
        ((CS_GROUP, INTAKE), "🆕 A client is waiting for confirmation"),
    ]
    assert [email for email, _ in service.asked] == ["zoe@example.com"] * 3
    assert (await customer_of(db_sessions, ZOE)).display_name == "Zoe Zed"


async def test_the_checker_is_not_fooled_by_a_second_known_address(
    db_sessions: Sessions,
) -> None:
    """Two known addresses given before the first is checked: one request, one prompt."""
    await seed_world(db_sessions)
    await record(
        db_sessions,
        says(BOB, "bob@example.com", message_id=1),
        says(BOB, "zoe@example.com", message_id=2),
    )
    await check_emails(db_sessions)
    assert len(await rows(db_sessions, Assignment)) == 1
    prompts = [t for _, place, t in seen(await written(db_sessions)) if place == (CS_GROUP, INTAKE)]
    assert len(prompts) == 1 and "Name: Bob Builder" in prompts[0]
