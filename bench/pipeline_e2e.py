"""Benchmark (not a test): end-to-end latency from a client's message to its copy in the
customer's staff topics, through the whole stack — Switchboard against the naive design.

    .venv/bin/python bench/pipeline_e2e.py [--backend sqlite,mariadb] [--runs 2]
        [--rate 50] [--duration 30] [--customers 50] [--no-naive] [--markdown FILE]

Every run starts from nothing (fresh database, dropped afterwards; fresh Bot API
sandbox with rate limits off; routing, delivery and ingress as processes; customers
imported through the operations API (ImportCustomer), each with a CS and a CR topic) and sets the
client bot's webhook to ingress, as Telegram would be told.

Clients then write to the client bot through the sandbox's driver API
(`POST /_sandbox/users/{id}/messages`), open loop: message k is sent at t0 + k / rate by
customer k mod --customers, so with 50 customers at 50 messages/s each writes once a
second — Telegram's per-chat pace. The sandbox delivers each update to ingress by
webhook; ingress → routing → outbox relay → local dispatcher → delivery → sendMessage
on the sandbox. This script polls the sandbox's call log (`GET /_sandbox/calls`) for
the sendMessage calls of the CS and the CR bot, matches each copy's text (and checks
its topic), and takes the call's `at` (the sandbox's wall clock when the call
arrived) minus the message's scheduled send time. Delivery's pacing and the lanes'
dispatch rates are raised so that neither is what is measured.

The naive server (bench/pipeline_naive.py: send both copies inside the webhook
handler) is measured the same way against its own fresh sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

import aiohttp
from pipeline_stack import naive_stack, switchboard_stack
from stack_cast import CR_BOT, CR_GROUP, CS_BOT, CS_GROUP
from stack_cpu import CpuMeter, system_pids
from stack_procs import cleanup_workdir, workdir
from stack_sandbox import World
from stack_stats import cpu_cell, fmt_ms, med, percentile, spread

CPU_NAMES = ["ingress", "routing", "delivery", "naive", "sandbox", "mariadb", "bench", "others"]
POLL_SECONDS = 0.2
SETTLE_SECONDS = 30.0  # how long to wait for the last copies after the last send


async def measure(sandbox_url: str, world: World, args, pids: dict[str, int], tag: str) -> dict:
    """Warm up, then send `rate` messages/s for `duration` s; answer latency stats."""
    customers = world.customers[: args.customers]
    threads = {c.user_id: c.threads for c in customers}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        since = 0

        async def poll() -> list[dict]:
            nonlocal since
            url = f"{sandbox_url}/_sandbox/calls"
            async with session.get(url, params={"method": "sendMessage", "since": since}) as r:
                entries = (await r.json())["result"]
            if entries:
                since = entries[-1]["seq"]
            return entries

        async def send_all(label: str, rate: float, seconds: float) -> tuple[float, list, int]:
            """Open loop: message k at t0 + k/rate; answer (wall t0, texts, failures)."""
            n = int(rate * seconds)
            texts = [f"{label} {k}: hello, where is my order?" for k in range(n)]
            failures = 0

            async def one(k: int) -> None:
                nonlocal failures
                user = customers[k % len(customers)].user_id
                body = {"chat_id": "@client_bot", "text": texts[k]}
                try:
                    async with session.post(
                        f"{sandbox_url}/_sandbox/users/{user}/messages", json=body
                    ) as resp:
                        await resp.read()
                        failures += resp.status != 200
                except aiohttp.ClientError:
                    failures += 1

            tasks = []
            t0 = time.perf_counter() + 0.01
            wall0 = time.time() + (t0 - time.perf_counter())
            for k in range(n):
                delay = t0 + k / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(k)))
            await asyncio.gather(*tasks)
            return wall0, texts, failures

        # Warm-up: the same shape, not measured.
        await send_all(f"{tag}-warm", args.rate, args.warmup)
        await asyncio.sleep(2)
        await poll()  # skip the warm-up's calls

        meter = CpuMeter(pids)
        meter.start()
        found: dict[tuple[int, str], float] = {}
        wrong_topic = 0
        stop_polling = asyncio.Event()

        async def poller() -> None:
            nonlocal wrong_topic
            while not stop_polling.is_set():
                for entry in await poll():
                    if not entry.get("ok"):
                        continue
                    params = entry.get("params", {})
                    bot = entry["bot_id"]
                    key = (bot, params.get("text", ""))
                    if key in found:
                        continue
                    found[key] = entry["at"]
                    expected_group = CS_GROUP if bot == CS_BOT else CR_GROUP
                    if str(params.get("chat_id")) != str(expected_group):
                        wrong_topic += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_polling.wait(), POLL_SECONDS)

        polling = asyncio.create_task(poller())
        label = f"{tag}-run"
        wall0, texts, failures = await send_all(label, args.rate, args.duration)
        deadline = time.monotonic() + SETTLE_SECONDS
        want = {(bot, t) for t in texts for bot in (CS_BOT, CR_BOT)}
        while time.monotonic() < deadline and not want <= found.keys():  # noqa: ASYNC110
            await asyncio.sleep(POLL_SECONDS)  # `found` is filled by the poller task
        shares = meter.stop()
        stop_polling.set()
        await polling

    del threads
    cs, cr, both = [], [], []
    missing = 0
    for k, text in enumerate(texts):
        scheduled = wall0 + k / args.rate
        got = [found.get((bot, text)) for bot in (CS_BOT, CR_BOT)]
        missing += sum(g is None for g in got)
        lat = [(g - scheduled) * 1000 if g is not None else float("inf") for g in got]
        cs.append(lat[0])
        cr.append(lat[1])
        both.append(max(lat))
    return {
        "sent": len(texts),
        "send_failures": failures,
        "missing": missing,
        "wrong_topic": wrong_topic,
        "cs_p50": percentile(cs, 50),
        "cs_p99": percentile(cs, 99),
        "cr_p50": percentile(cr, 50),
        "cr_p99": percentile(cr, 99),
        "both_p50": percentile(both, 50),
        "both_p99": percentile(both, 99),
        "max": max(both),
        "cpu": shares,
    }


async def run_switchboard(backend: str, args, run: int) -> dict:
    work = workdir(args.keep)
    try:
        async with switchboard_stack(
            backend,
            customers=args.customers,
            delivery=True,
            log_level=args.log_level,
            workdir=work,
            keep=args.keep is not None,
        ) as (stack, sandbox, world):
            await sandbox.set_webhook("client", f"{stack.ingress_url}/webhook/client")
            return await measure(
                sandbox.url, world, args, system_pids(stack, sandbox, backend), f"sb{run}"
            )
    finally:
        cleanup_workdir(work, args.keep)


async def run_naive(args, run: int) -> dict:
    work = workdir(args.keep)
    try:
        async with naive_stack(
            customers=args.customers, workdir=work, client=args.naive_client
        ) as (naive, sandbox, world):
            await sandbox.set_webhook("client", f"{naive.url}/webhook/client")
            pids = {"naive": naive.proc.pid, "sandbox": sandbox.proc.pid}
            return await measure(sandbox.url, world, args, pids, f"naive{run}")
    finally:
        cleanup_workdir(work, args.keep)


def describe(r: dict) -> str:
    return (
        f"CS copy p50 {fmt_ms(r['cs_p50'])} ms p99 {fmt_ms(r['cs_p99'])} ms · CR copy p50 "
        f"{fmt_ms(r['cr_p50'])} p99 {fmt_ms(r['cr_p99'])} · both p50 {fmt_ms(r['both_p50'])} "
        f"p99 {fmt_ms(r['both_p99'])} max {fmt_ms(r['max'])} · sent {r['sent']} "
        f"(driver failures {r['send_failures']}), copies missing {r['missing']}, "
        f"wrong topic {r['wrong_topic']}\n    CPU cores " + cpu_cell(r["cpu"], CPU_NAMES)
    )


def table(rows: list[tuple[str, list[dict]]]) -> str:
    out = [
        "| system | runs | CS copy p50 ms | CS p50 runs | CS copy p99 ms | CS p99 runs "
        "| CR copy p50 / p99 ms | both copies p50 / p99 ms | copies missing | CPU cores "
        "(median): ingress · routing · delivery · naive · sandbox · mariadb · others |",
        "|---|---:|---:|---|---:|---|---|---|---:|---|",
    ]
    for name, runs in rows:
        m = {k: med([r[k] for r in runs]) for k in runs[0] if k != "cpu"}
        cpu = {k: med([r["cpu"].get(k, 0.0) for r in runs]) for k in CPU_NAMES}
        present = [k for k in CPU_NAMES if any(k in r["cpu"] for r in runs) and k != "bench"]
        out.append(
            f"| {name} | {len(runs)} | **{fmt_ms(m['cs_p50'])}** "
            f"| {spread([r['cs_p50'] for r in runs])} | **{fmt_ms(m['cs_p99'])}** "
            f"| {spread([r['cs_p99'] for r in runs])} "
            f"| {fmt_ms(m['cr_p50'])} / {fmt_ms(m['cr_p99'])} "
            f"| {fmt_ms(m['both_p50'])} / {fmt_ms(m['both_p99'])} "
            f"| {sum(r['missing'] for r in runs)} | {cpu_cell(cpu, present)} |"
        )
    return "\n".join(out)


async def main_async(args) -> list[tuple[str, list[dict]]]:
    rows = []
    for backend in args.backend:
        name = f"Switchboard, {backend}"
        runs = []
        for run in range(args.runs):
            runs.append(await run_switchboard(backend, args, run))
            print(f"{name} run {run + 1}: {describe(runs[-1])}", flush=True)
        rows.append((name, runs))
    if args.naive:
        name = f"naive inline sends ({args.naive_client})"
        runs = []
        for run in range(args.runs):
            runs.append(await run_naive(args, run))
            print(f"{name} run {run + 1}: {describe(runs[-1])}", flush=True)
        rows.append((name, runs))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backend", type=lambda t: [x for x in t.split(",") if x], default=["sqlite", "mariadb"]
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rate", type=float, default=50.0, help="client messages per second")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--customers", type=int, default=50, help="distinct clients writing")
    parser.add_argument("--no-naive", dest="naive", action="store_false")
    parser.add_argument("--naive-client", choices=("aiogram", "aiohttp"), default="aiogram")
    parser.add_argument("--log-level", default="INFO", help="the services' log level")
    parser.add_argument("--markdown", type=Path, help="append the table to this file")
    parser.add_argument("--keep", type=Path, help="keep logs (and a SQLite file) in this folder")
    args = parser.parse_args()

    began = time.monotonic()
    rows = asyncio.run(main_async(args))
    header = (
        f"End-to-end latency at {args.rate:g} client messages/s for {args.duration:g} s (after "
        f"{args.warmup:g} s warm-up), {args.customers} clients each writing every "
        f"{args.customers / args.rate:g} s, from the scheduled send time to the sandbox's "
        f"receipt of the sendMessage copy; fresh stack per run; ∞ = a copy that did not arrive "
        f"within {SETTLE_SECONDS:g} s after the last send."
    )
    text = f"{header}\n\n{table(rows)}\n"
    print(f"\n{text}\n(wall time {time.monotonic() - began:.0f} s)")
    if args.markdown is not None:
        with args.markdown.open("a") as out:
            out.write(text + "\n")
        print(f"appended to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
