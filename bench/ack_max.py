"""pipeline_ack.py max: steps of rising rates on one stack per run, up to the first step
that does not hold; the highest held rate, its table and the ratio to the naive server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ack_measure import (
    CPU_NAMES,
    CUSTOMERS,
    cpu_line,
    describe,
    drive,
    integrity,
    latency_stats,
    per_update,
)
from pipeline_stack import naive_stack, switchboard_stack
from stack_cpu import system_pids
from stack_procs import cleanup_workdir, workdir
from stack_stats import cpu_cell, fmt_ms, med, spread

# --- highest sustained rate ------------------------------------------------------------


def held(stats: dict, bound: float) -> bool:
    return (
        stats["non200"] == 0
        and stats["p99"] < bound
        and stats["last_second_max"] < bound
        and stats["lossless"]
    )


async def step_rates(url: str, pids, database_url: str | None, args, work: Path, tag: str):
    """Warm up, then each rate in turn; answer [(rate, stats)] up to the first failure."""
    steps = []
    next_update = 1
    failures = 0
    result, _ = await asyncio.to_thread(
        drive,
        url,
        [("warmup", args.warmup_rate, args.warmup)],
        first_update=next_update,
        pids=pids,
        measure="warmup",
        out=work / "warm.json",
        tag=tag,
        drain=args.drain,
    )
    next_update = result["next_update"]
    for rate in args.rates:
        await asyncio.sleep(args.pause)
        result, shares = await asyncio.to_thread(
            drive,
            url,
            [("step", rate, args.step)],
            first_update=next_update,
            pids=pids,
            measure="step",
            out=work / f"step-{rate:g}.json",
            tag=tag,
            drain=args.drain,
        )
        next_update = result["next_update"]
        phase = result["phases"]["step"]
        stats = latency_stats(phase, args.bound)
        integrity(stats, database_url, phase)
        per_update(shares, stats["db"]["rows"] if stats["db"] else stats["ok"])
        stats["held"] = held(stats, args.bound)
        stats["rate"] = rate
        stats["cpu"] = shares
        steps.append(stats)
        verdict = "held" if stats["held"] else "FAILED"
        print(f"    {rate:>6g}/s {verdict}: {describe(stats)}\n           {cpu_line(shares)}",
              flush=True)  # fmt: skip
        if not stats["held"]:
            failures += 1
            if failures >= args.failures:
                break
    return steps


async def max_switchboard(backend: str, delivery: bool, args) -> list[dict]:
    work = workdir(args.keep)
    try:
        async with switchboard_stack(
            backend,
            customers=CUSTOMERS,
            delivery=delivery,
            log_level=args.log_level,
            workdir=work,
            keep=args.keep is not None,
            lane_rate=args.lane_rate,
            shape=args.shape,
        ) as (stack, sandbox, _world):
            pids = system_pids(stack, sandbox, backend)
            return await step_rates(
                f"{stack.ingress_url}/webhook/client", pids, stack.database_url, args, work, "max"
            )
    finally:
        cleanup_workdir(work, args.keep)


async def max_naive(args) -> list[dict]:
    work = workdir(args.keep)
    try:
        async with naive_stack(customers=CUSTOMERS, workdir=work, client=args.naive_client) as (
            naive,
            sandbox,
            _world,
        ):
            pids = {"naive": naive.proc.pid, "sandbox": sandbox.proc.pid}
            return await step_rates(f"{naive.url}/webhook/client", pids, None, args, work, "naive")
    finally:
        cleanup_workdir(work, args.keep)


def highest(steps: list[dict]) -> float:
    """The highest rate that held, with every lower rate holding too (0: none)."""
    best = 0.0
    for s in steps:
        if not s["held"]:
            break
        best = s["rate"]
    return best


def max_table(rows: list[tuple[str, list[list[dict]]]], rates: list[float]) -> str:
    head = " | ".join(f"{r:g}/s p99 ms" for r in rates)
    out = [
        f"| system | highest held rate (median) | runs | {head} | CPU cores at the highest "
        "held step (median): ingress · routing · delivery · naive · sandbox · mariadb · "
        "load-gen · others |",
        "|---|---:|---|" + "---|" * len(rates) + "---|",
    ]
    for name, runs in rows:
        best = [highest(steps) for steps in runs]
        cells = []
        for rate in rates:
            got = [s for steps in runs for s in steps if s["rate"] == rate]
            if not got:
                cells.append("–")
                continue
            cell = " / ".join(
                (fmt_ms(s["p99"]) if s["p99"] != float("inf") else "∞") + ("" if s["held"] else "✗")
                for s in got
            )
            cells.append(cell)
        at_best = [
            next((s["cpu"] for s in steps if s["rate"] == b), None)
            for steps, b in zip(runs, best, strict=True)
        ]
        at_best = [c for c in at_best if c]
        cpu = {k: med([c.get(k, 0.0) for c in at_best]) for k in CPU_NAMES} if at_best else {}
        present = [k for k in CPU_NAMES if any(k in c for c in at_best) and k != "bench"]
        out.append(
            f"| {name} | **{med(best):,.0f}/s** | {spread(best, '{:,.0f}')} | "
            + " | ".join(cells)
            + f" | {cpu_cell(cpu, present) if cpu else '–'} |"
        )
    return "\n".join(out)


async def cmd_max(args) -> list[tuple[str, list[list[dict]]]]:
    rows = []
    for backend in args.backend:
        for delivery in args.delivery:
            name = f"Switchboard, {backend}, delivery {'on' if delivery else 'off'}"
            runs = []
            for run in range(args.runs):
                print(f"{name} run {run + 1}:", flush=True)
                runs.append(await max_switchboard(backend, delivery, args))
            rows.append((name, runs))
    if args.naive:
        name = f"naive inline sends ({args.naive_client})"
        runs = []
        for run in range(args.runs):
            print(f"{name} run {run + 1}:", flush=True)
            runs.append(await max_naive(args))
        rows.append((name, runs))
    return rows


def ratio_lines_max(rows) -> list[str]:
    naive = next((runs for name, runs in rows if name.startswith("naive")), None)
    if naive is None:
        return []
    n = med([highest(s) for s in naive])
    out = []
    for name, runs in rows:
        if name.startswith("naive"):
            continue
        s = med([highest(steps) for steps in runs])
        ratio = f"{s / n:.2f}×" if n else "n/a (the naive server held no step)"
        out.append(f"- {name}: highest held rate {ratio} the naive server's")
    return out
