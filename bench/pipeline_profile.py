"""Benchmark (not a test): where routing's time goes, measured in-process on routing's
own use cases, without gRPC, ingress or delivery around them.

    .venv/bin/python bench/pipeline_profile.py [--backend sqlite,mariadb] [--updates 2000]
        [--markdown FILE]

For each backend, on a fresh database (migrated, the bench registry, 200 customers
with a CS and a CR topic, created through routing's customers use case):

1. **Recording**: `record_batch` (what RecordUpdates runs: dedup, backup, route, two
   jobs per update) in one transaction per batch, for batches of 1, 10 and 100 updates
   (ingress sends what arrived within 2 ms, up to 100): CPU ms per update of this
   process (all threads, from /proc), of mariadbd (from /proc; it is shared, so other
   tenants' queries count too), wall ms per update, and SQL statements per update
   (counted with a `before_cursor_execute` listener). With the services' JSON logging
   at INFO to /dev/null, as they run.
2. **The relay's scan**: one `Relay.pass_once` when every destination's head is already
   out and N jobs wait behind them — what happens whenever delivery falls behind or
   stops (the relay reads only destinations whose head is due, so N should not matter).
3. **Delivering a job**: `claim` then `record_outcome` (sent, one copy), each in its own
   transaction as ClaimJob and ReportOutcome run them: CPU ms and statements per job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from profile_flow import flow
from profile_probes import Clock, Counter, seeded, update_body
from sqlalchemy import select, update
from stack_cast import CLIENT_BOT, CS_GROUP
from stack_cpu import find_pid
from stack_db import fresh_database
from stack_procs import cleanup_workdir, workdir

from servicekit.logs import configure_logging
from services.routing.conversation.batch import Incoming
from services.routing.conversation.record_batch import record_batch
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.outbox.claims import claim
from services.routing.outbox.outcomes import Report
from services.routing.outbox.record_outcomes import record_outcome
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers

OPTIONS = conversation_options()  # the handler tables, built once

BATCHES = (1, 10, 100)
PENDING_LEVELS = (0, 1000, 5000, 20000)
RELAY_PASSES = 30
FLOW_RATES = (20, 40)


async def profile(backend: str, args) -> dict:
    work = workdir(None)
    out: dict = {"backend": backend}
    try:
        with fresh_database(backend, work) as url:
            engine, sessions = await seeded(url)
            counter = Counter(engine)
            clock = Clock(find_pid("mariadbd") if backend == "mariadb" else None)
            next_id = 1

            # 1. Recording.
            out["record"] = {}
            for size in BATCHES:
                n = args.updates
                # A short warm-up for this batch size (statement caches).
                for _ in range(3):
                    batch = [
                        Incoming(CLIENT_BOT, next_id + k, update_body(next_id + k), "c")
                        for k in range(size)
                    ]
                    next_id += size
                    async with sessions() as s, s.begin():
                        await record_batch(s, batch, OPTIONS)
                counter.reset()
                c0, d0, w0 = clock.read()
                for _ in range(n // size):
                    batch = [
                        Incoming(CLIENT_BOT, next_id + k, update_body(next_id + k), "c")
                        for k in range(size)
                    ]
                    next_id += size
                    async with sessions() as s, s.begin():
                        results = await record_batch(s, batch, OPTIONS)
                    assert all(r.jobs == 2 for r in results), results
                c1, d1, w1 = clock.read()
                done = (n // size) * size
                out["record"][size] = {
                    "cpu_ms": (c1 - c0) / done * 1000,
                    "db_ms": (d1 - d0) / done * 1000,
                    "wall_ms": (w1 - w0) / done * 1000,
                    "statements": counter.statements / done,
                    "per_second": done / (w1 - w0),
                    "kinds": {k: v / done for k, v in counter.kinds.most_common()},
                }
                print(f"{backend} record_batch({size}): {out['record'][size]}", flush=True)

            # 2. The relay's scan with every head out and N jobs waiting behind them.
            async def noop(_handout) -> None:
                return None

            relay = Relay(sessions, noop, due_work=due_work(), batch=200)
            handlers = outcome_handlers()
            while await relay.pass_once():
                pass  # hand out every destination's head
            # As if delivery had caught up with everything but the heads out now.
            async with sessions() as s, s.begin():
                await s.execute(
                    update(Job)
                    .where(Job.status == JobStatus.PENDING)
                    .values(status=JobStatus.SUCCEEDED)
                    .execution_options(synchronize_session=False)
                )
            out["relay"] = {}
            pending = 0
            for level in PENDING_LEVELS:
                while pending < level:
                    size = min(100, (level - pending) // 2 or 1)
                    batch = [
                        Incoming(CLIENT_BOT, next_id + k, update_body(next_id + k), "c")
                        for k in range(size)
                    ]
                    next_id += size
                    async with sessions() as s, s.begin():
                        await record_batch(s, batch, OPTIONS)
                    pending += 2 * size
                counter.statements = 0
                c0, d0, w0 = clock.read()
                for _ in range(RELAY_PASSES):
                    assert await relay.pass_once() == 0
                c1, d1, w1 = clock.read()
                out["relay"][pending] = {
                    "cpu_ms": (c1 - c0) / RELAY_PASSES * 1000,
                    "db_ms": (d1 - d0) / RELAY_PASSES * 1000,
                    "wall_ms": (w1 - w0) / RELAY_PASSES * 1000,
                }
                print(
                    f"{backend} relay pass, {pending} pending: {out['relay'][pending]}", flush=True
                )

            # 3. Claim + report for the dispatched heads.
            async with sessions() as s:
                heads = (
                    await s.execute(
                        select(Job.id, Job.attempts).where(Job.status == JobStatus.DISPATCHED)
                    )
                ).all()
            counter.reset()
            c0, d0, w0 = clock.read()
            for k, (job_id, attempt) in enumerate(heads):
                async with sessions() as s, s.begin():
                    got = await claim(s, job_id=job_id, attempt=attempt)
                assert got.claim == "proceed", got
                async with sessions() as s, s.begin():
                    applied = await record_outcome(
                        s,
                        Report(job_id, attempt, "sent", sent=[(CS_GROUP, 10_000_000 + k)]),
                        handlers,
                    )
                assert applied
            c1, d1, w1 = clock.read()
            n = len(heads)
            out["deliver"] = {
                "jobs": n,
                "cpu_ms": (c1 - c0) / n * 1000,
                "db_ms": (d1 - d0) / n * 1000,
                "wall_ms": (w1 - w0) / n * 1000,
                "statements": counter.statements / n,
                "kinds": {k: v / n for k, v in counter.kinds.most_common()},
            }
            print(f"{backend} claim + report per job: {out['deliver']}", flush=True)
            await engine.dispose()

        # 4. The whole flow, on a fresh database per rate.
        out["flow"] = {}
        for rate in FLOW_RATES:
            with fresh_database(backend, work) as url:
                out["flow"][rate] = await flow(url, rate, args.flow_seconds, clock_pid(backend))
            print(f"{backend} flow at {rate}/s: {out['flow'][rate]}", flush=True)
    finally:
        cleanup_workdir(work, None)
    return out


def clock_pid(backend: str) -> int | None:
    return find_pid("mariadbd") if backend == "mariadb" else None


def tables(results: list[dict]) -> str:
    lines = [
        "Recording (`record_batch`, one transaction per batch, 2 jobs per update):",
        "",
        "| backend | batch | routing CPU ms/update | mariadbd CPU ms/update | wall ms/update "
        "| updates/s on one core | SQL statements/update |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for size, m in r["record"].items():
            lines.append(
                f"| {r['backend']} | {size} | {m['cpu_ms']:.2f} | {m['db_ms']:.2f} "
                f"| {m['wall_ms']:.2f} | {m['per_second']:,.0f} | {m['statements']:.1f} |"
            )
    lines += ["", "SQL statements per update by kind (batch of 100 / batch of 1):", ""]
    for r in results:
        big, one = r["record"][max(BATCHES)]["kinds"], r["record"][min(BATCHES)]["kinds"]
        kinds = sorted(set(big) | set(one), key=lambda k: (-big.get(k, 0), -one.get(k, 0), k))
        cells = ", ".join(f"{k} {big.get(k, 0):.2f} / {one.get(k, 0):.2f}" for k in kinds)
        lines.append(f"- {r['backend']}: {cells}")
    lines += [
        "",
        "The relay's pass when every head is out (what runs after each RecordUpdates and "
        "ReportOutcome while delivery is behind):",
        "",
        "| backend | jobs waiting | routing CPU ms/pass | mariadbd CPU ms/pass | wall ms/pass |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for pending, m in r["relay"].items():
            lines.append(
                f"| {r['backend']} | {pending:,} | {m['cpu_ms']:.2f} | {m['db_ms']:.2f} "
                f"| {m['wall_ms']:.2f} |"
            )
    lines += [
        "",
        "Delivering one job (ClaimJob's and ReportOutcome's transactions, one copy stored):",
        "",
        "| backend | jobs | routing CPU ms/job | mariadbd CPU ms/job | wall ms/job "
        "| SQL statements/job |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m = r["deliver"]
        lines.append(
            f"| {r['backend']} | {m['jobs']} | {m['cpu_ms']:.2f} | {m['db_ms']:.2f} "
            f"| {m['wall_ms']:.2f} | {m['statements']:.1f} |"
        )
    lines.append("")
    for r in results:
        kinds = r["deliver"]["kinds"]
        lines.append(f"- {r['backend']}: " + ", ".join(f"{k} {v:.2f}" for k, v in kinds.items()))
    lines += [
        "",
        "Routing's whole job per update (record + relay + claim + report for both jobs, "
        "one update per RecordUpdates), in-process, open loop:",
        "",
        "| backend | updates/s | routing CPU ms/update | mariadbd CPU ms/update "
        "| SQL statements/update | relay passes/update | all delivered |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for rate, m in r["flow"].items():
            lines.append(
                f"| {r['backend']} | {rate} | {m['cpu_ms']:.2f} | {m['db_ms']:.2f} "
                f"| {m['statements']:.1f} | {m['passes']:.2f} "
                f"| {'yes' if m['delivered'] == 2 * m['updates'] else m['delivered']} |"
            )
    lines.append("")
    for r in results:
        for rate, m in r["flow"].items():
            kinds = ", ".join(f"{k} {v:.2f}" for k, v in m["kinds"].items())
            lines.append(f"- {r['backend']} at {rate}/s: {kinds}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backend", type=lambda t: [x for x in t.split(",") if x], default=["sqlite", "mariadb"]
    )
    parser.add_argument("--updates", type=int, default=2000, help="updates per batch size")
    parser.add_argument("--log-level", default="INFO", help="as the services log")
    parser.add_argument("--flow-seconds", type=float, default=15.0, help="per flow rate")
    parser.add_argument("--markdown", type=Path, help="append the tables to this file")
    args = parser.parse_args()
    with open(os.devnull, "w") as sink:
        configure_logging("routing", args.log_level, stream=sink)
        results = [asyncio.run(profile(backend, args)) for backend in args.backend]
    text = tables(results)
    print("\n" + text)
    if args.markdown is not None:
        with args.markdown.open("a") as out:
            out.write(text + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
