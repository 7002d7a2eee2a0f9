"""Benchmark (not a test): what onboarding costs routing, in-process.

    .venv/bin/python bench/onboarding_profile.py [--backend sqlite,mariadb] [--clients 100]

On a database seeded as for pipeline_profile.py (200 customers with topics) plus a
directory of `--clients` accounts, each step of onboarding is run for every new client,
one transaction per step, as it happens in routing: the first contact, the email try,
the checker recording a known account (prompt written), a line kept while waiting, the
CS press that confirms and one that comes second, the first topic reported created and
the last one (activation: card, the kept line replayed, the welcome).
Reports wall ms and SQL statements per step (medians over the clients).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

from profile_probes import Counter, seeded
from sqlalchemy import select
from stack_cast import CLIENT_BOT, CS_BOT, CS_GROUP, STAFF
from stack_db import fresh_database
from stack_procs import cleanup_workdir, workdir

from servicekit.logs import configure_logging
from services.routing.conversation.batch import Incoming
from services.routing.conversation.record_batch import record_batch
from services.routing.db.models import Assignment, DirectoryUser, Job, StaffGroup
from services.routing.onboarding import email_checks, topic_setup
from services.routing.onboarding.intake import Rules
from services.routing.outbox.jobs import write_jobs
from services.routing.wiring import conversation_options
from switchboard.delivery.v1 import job_pb2

OPTIONS = conversation_options()  # the handler tables, built once

NEW_BASE = 800_000


def _line(update_id: int, user: int, text: str) -> bytes:
    who = {"id": user, "is_bot": False, "first_name": "New", "last_name": str(user)}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": who,
                "chat": {"id": user, "type": "private"},
                "date": int(time.time()),
                "text": text,
            },
        }
    ).encode()


def _press(update_id: int, assignment_id: int, team_id: int, presser: int) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "callback_query": {
                "id": f"q{update_id}",
                "from": {"id": presser, "is_bot": False, "first_name": "Anna"},
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "text": "prompt",
                    "chat": {"id": CS_GROUP, "type": "supergroup", "is_forum": True},
                },
                "data": f"ob:{assignment_id}:t:{team_id}",
            },
        }
    ).encode()


async def profile(backend: str, clients: int) -> dict:
    work = workdir(None)
    steps: dict[str, list[tuple[float, int]]] = {}
    try:
        with fresh_database(backend, work) as url:
            engine, sessions = await seeded(url)
            counter = Counter(engine)
            async with sessions() as s, s.begin():
                s.add_all(
                    DirectoryUser(email=f"new{i}@example.com", full_name=f"New {i}")
                    for i in range(clients)
                )
            update_id = 10_000_000

            async def step(name: str, run, *args) -> object:
                counter.reset()
                start = time.perf_counter()
                async with sessions() as s, s.begin():
                    result = await run(s, *args)
                steps.setdefault(name, []).append(
                    ((time.perf_counter() - start) * 1000, counter.statements)
                )
                return result

            async def record(s, bot: int, body: bytes):
                (result,) = await record_batch(s, [Incoming(bot, update_id, body, "c")], OPTIONS)
                assert result.status == "accepted", result
                return result

            for i in range(clients):
                user = NEW_BASE + i
                for name, text in (
                    ("first contact (/start)", "/start"),
                    ("email try", f"new{i}@example.com"),
                ):
                    update_id += 1
                    await step(name, record, CLIENT_BOT, _line(update_id, user, text))
                async with sessions() as s:
                    (check,) = await email_checks.due(s, now=_now())
                await step("checker: account known (prompt)", _resolve, check)
                update_id += 1
                kept = _line(update_id, user, "hello")
                await step("line kept while waiting", record, CLIENT_BOT, kept)
                async with sessions() as s:
                    assignment = await s.scalar(select(Assignment).order_by(Assignment.id.desc()))
                    team_id = (await s.get(StaffGroup, -1002002)).team_id
                for name in ("press that confirms", "press that comes second"):
                    update_id += 1
                    body = _press(update_id, assignment.id, team_id, STAFF)
                    await step(name, record, CS_BOT, body)
                async with sessions() as s:
                    creates = list(
                        await s.scalars(
                            select(Job)
                            .where(Job.kind == "create_topic")
                            .order_by(Job.id.desc())
                            .limit(2)
                        )
                    )
                last = "last topic created: activation"
                for name, job, thread in (
                    ("topic created (not the last)", creates[1], 1),
                    (last, creates[0], 2),
                ):
                    proto = job_pb2.DeliveryJob.FromString(job.payload)
                    await step(name, _created, proto, 10_000 * i + thread)
    finally:
        cleanup_workdir(work, None)
    return {
        name: {
            "wall_ms": round(statistics.median(w for w, _ in runs), 2),
            "statements": statistics.median(n for _, n in runs),
        }
        for name, runs in steps.items()
    }


async def _resolve(s, check):
    from services.routing.onboarding.directory import Account

    lines = await email_checks.resolve(
        s, check.check_id, Account("New", "x", False), now=_now(), rules=Rules()
    )
    return await write_jobs(s, lines)


async def _created(s, proto, thread: int):
    lines = await topic_setup.on_created(s, proto, thread, now=_now(), texts=Rules().texts)
    return await write_jobs(s, lines) if lines else []


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite,mariadb")
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    for backend in args.backend.split(","):
        result = asyncio.run(profile(backend, args.clients))
        print(json.dumps({"backend": backend, "clients": args.clients, "steps": result}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
