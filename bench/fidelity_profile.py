"""Benchmark (not a test): what conversation fidelity costs routing, in-process.

    .venv/bin/python bench/fidelity_profile.py [--backend sqlite,mariadb] [--events 200]

On a fresh database seeded as for pipeline_profile.py (200 customers with a CS and a CR
topic), each kind of update is recorded one per transaction (`record_batch` of one, as
a lone update arrives), `--events` times, after a client line for it to act on:
CPU ms of this process, statements, wall ms per event. Then the claim of a job that
refers to a message (its copies looked up) against one that does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from profile_probes import Clock, Counter, seeded, update_body
from sqlalchemy import select
from stack_cast import CLIENT_BOT, CS_BOT, CS_GROUP, STAFF, USER_BASE
from stack_cpu import find_pid
from stack_db import fresh_database
from stack_procs import cleanup_workdir, workdir

from servicekit.logs import configure_logging
from services.routing.conversation.batch import Incoming
from services.routing.conversation.record_batch import record_batch
from services.routing.db.models import Copy, Job, Message
from services.routing.outbox.claims import ClaimRequest, claim_many
from services.routing.records.message_destinations import Reference
from services.routing.wiring import conversation_options

OPTIONS = conversation_options()  # the handler tables, built once

THREAD_BASE = 10  # the seeded customer i has thread 10 + i in each group


def _staff(update_id: int, text: str, customer: int, **extra) -> bytes:
    message = {
        "message_id": update_id,
        "from": {"id": STAFF, "is_bot": False, "first_name": "Anna"},
        "chat": {"id": CS_GROUP, "type": "supergroup", "is_forum": True},
        "date": int(time.time()),
        "text": text,
        "is_topic_message": True,
        "message_thread_id": THREAD_BASE + customer,
        **extra,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def _edit(update_id: int, source_id: int) -> bytes:
    body = json.loads(update_body(source_id))
    body["update_id"] = update_id
    body["edited_message"] = {**body.pop("message"), "text": "edited", "edit_date": 1}
    return json.dumps(body).encode()


def _reaction(update_id: int, source_id: int) -> bytes:
    user = USER_BASE + source_id % 200
    return json.dumps(
        {
            "update_id": update_id,
            "message_reaction": {
                "chat": {"id": user, "type": "private"},
                "message_id": source_id,
                "user": {"id": user, "is_bot": False, "first_name": "C"},
                "date": 1,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        }
    ).encode()


KINDS = {
    "client line": lambda uid, src, cust: (CLIENT_BOT, update_body(uid)),
    "staff line": lambda uid, src, cust: (CS_BOT, _staff(uid, "On it", cust)),
    "staff line, 5,000 characters": lambda uid, src, cust: (
        CS_BOT,
        _staff(uid, "word " * 1000, cust),
    ),
    "staff reply": lambda uid, src, cust: (
        CS_BOT,
        _staff(uid, "Refunded", cust, reply_to_message={"message_id": 900_000 + src}),
    ),
    "client edit": lambda uid, src, cust: (CLIENT_BOT, _edit(uid, src)),
    "client reaction": lambda uid, src, cust: (CLIENT_BOT, _reaction(uid, src)),
    "staff /delete": lambda uid, src, cust: (
        CS_BOT,
        _staff(uid, "/delete", cust, reply_to_message={"message_id": 900_000 + src}),
    ),
    "staff /note": lambda uid, src, cust: (CS_BOT, _staff(uid, "/note check billing", cust)),
}


async def profile(backend: str, events: int) -> dict:
    work = workdir(None)
    out: dict = {"backend": backend, "kinds": {}}
    try:
        with fresh_database(backend, work) as url:
            engine, sessions = await seeded(url)
            counter = Counter(engine)
            clock = Clock(find_pid("mariadbd") if backend == "mariadb" else None)
            next_id = 1
            for kind, make in KINDS.items():
                sources = []
                for _ in range(events):  # a client line for each event to act on
                    async with sessions() as s, s.begin():
                        await record_batch(
                            s, [Incoming(CLIENT_BOT, next_id, update_body(next_id), "c")], OPTIONS
                        )
                    sources.append(next_id)
                    next_id += 1
                # Their copy in the CS topic, as delivery would have reported it.
                async with sessions() as s, s.begin():
                    rows = (
                        await s.execute(
                            select(Message.id, Message.origin_message_id).where(
                                Message.origin_message_id.in_(sources), Message.bot_id == CLIENT_BOT
                            )
                        )
                    ).all()
                    s.add_all(
                        Copy(
                            message_id=m,
                            bot_id=CS_BOT,
                            dest_chat_id=CS_GROUP,
                            dest_thread_id=THREAD_BASE + o % 200,
                            dest_message_id=900_000 + o,
                        )
                        for m, o in rows
                    )
                counter.reset()
                c0, d0, w0 = clock.read()
                for source in sources:
                    bot, body = make(next_id, source, source % 200)
                    async with sessions() as s, s.begin():
                        (result,) = await record_batch(
                            s, [Incoming(bot, next_id, body, "c")], OPTIONS
                        )
                    assert result.status == "accepted", (kind, result)
                    next_id += 1
                c1, d1, w1 = clock.read()
                out["kinds"][kind] = {
                    "cpu_ms": (c1 - c0) / events * 1000,
                    "db_ms": (d1 - d0) / events * 1000,
                    "wall_ms": (w1 - w0) / events * 1000,
                    "statements": counter.statements / events,
                }
                print(f"{backend} {kind}: {out['kinds'][kind]}", flush=True)
            out["claims"] = await _claims(sessions, counter, clock, events)
    finally:
        cleanup_workdir(work, None)
    return out


async def _claims(sessions, counter: Counter, clock: Clock, events: int) -> dict:
    """Claim handed-out jobs one per transaction, with and without a message to find."""
    async with sessions() as s:
        jobs = (
            await s.execute(
                select(Job.id, Job.attempts, Job.message_id)
                .where(
                    Job.status == "dispatched",
                    Job.message_id.is_not(None),
                )
                .limit(2 * events)
            )
        ).all()
    out = {}
    for name, chunk, refers in (
        ("plain", jobs[:events], False),
        ("refers to", jobs[events:], True),
    ):
        counter.reset()
        c0, _, w0 = clock.read()
        for job_id, attempts, message_id in chunk:
            wanted = Reference(message_id, CS_GROUP) if refers else None
            async with sessions() as s, s.begin():
                (answer,) = await claim_many(s, [ClaimRequest(job_id, attempts, wanted)])
            assert answer.claim == "proceed", answer
        c1, _, w1 = clock.read()
        n = max(1, len(chunk))
        out[name] = {
            "jobs": len(chunk),
            "cpu_ms": (c1 - c0) / n * 1000,
            "wall_ms": (w1 - w0) / n * 1000,
            "statements": counter.statements / n,
        }
        print(f"claim ({name}): {out[name]}", flush=True)
    return out


def table(results: list[dict]) -> str:
    lines = [
        "| backend | update (one per transaction) | routing CPU ms | mariadbd CPU ms "
        "| wall ms | SQL statements |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for kind, m in r["kinds"].items():
            lines.append(
                f"| {r['backend']} | {kind} | {m['cpu_ms']:.2f} | {m['db_ms']:.2f} "
                f"| {m['wall_ms']:.2f} | {m['statements']:.1f} |"
            )
        for name, m in r["claims"].items():
            lines.append(
                f"| {r['backend']} | ClaimJob, {name} | {m['cpu_ms']:.2f} | – "
                f"| {m['wall_ms']:.2f} | {m['statements']:.1f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backend", type=lambda t: [x for x in t.split(",") if x], default=["sqlite", "mariadb"]
    )
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    configure_logging("bench", level="INFO", stream=open("/dev/null", "w"))  # noqa: SIM115
    results = [asyncio.run(profile(b, args.events)) for b in args.backend]
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
