"""Benchmark (not a test): webhook ack latency and the highest rate held with nothing lost.

Switchboard (ingress → routing → database, with or without delivery running) against
the naive design, in the same invocation.

    .venv/bin/python bench/pipeline_ack.py latency [--backend sqlite,mariadb] [--runs 2]
        [--rate 500] [--duration 30] [--delivery on,off] [--no-naive] [--markdown FILE]
    .venv/bin/python bench/pipeline_ack.py max [--backend sqlite,mariadb] [--runs 2]
        [--rates 50,100,150,200,300,400,500,750,1000,1250,1500] [--step 15]
        [--delivery off] [--markdown FILE]

Every run starts from nothing: a fresh SQLite file or a fresh MariaDB database (dropped
afterwards), a fresh Bot API sandbox (rate limits off) with 200 client users and a CS
and a CR topic for each, the registry loaded with routing's registry CLI, routing,
ingress (and delivery, unless `--delivery off`) as processes with production settings
except delivery's pacing and the lane dispatch rates (raised: see pipeline_stack.py),
and 200 customers imported through the operations API (ImportCustomer). So each update is routed
like production: one inbound_updates row, one message row, two jobs (CS and CR).

The load comes from bench/pipeline_load.py, an open-loop generator in its own process:
distinct valid updates POSTed to /webhook/client at fixed scheduled times; latency is
(answer time − scheduled time); an update not acknowledged within --drain seconds after
the last send counts as infinitely late. CPU shares are read from /proc over the
measured window for every process: ingress, routing, delivery, sandbox, mariadbd, the
load generator, this script, and everything else on the (shared) machine.

`latency`: --warmup s at --warmup-rate (5 s at 50/s), then --duration s at --rate;
p50/p99/max, acked/s and unacknowledged updates; then every acknowledged update must
have exactly one inbound_updates row and two jobs.
`max`: after the same warm-up, steps of --step s at each rate on the same stack; a step
holds when every update was answered 200, p99 < --bound ms (250), the last second's
slowest answer < --bound (no growing backlog), and the database holds exactly one row
and two jobs per update (no loss, no duplicate). Stops after the first failed step.

The naive server (bench/pipeline_naive.py: send to both topics inside the webhook
handler, then answer) runs in the same invocation, against its own fresh sandbox, at
the same rates (--no-naive skips it). `--profile DIR` (latency) also samples ingress,
routing and delivery with py-spy --gil during the measured window and summarises where
their time went, by package and function.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from ack_max import cmd_max, max_table, ratio_lines_max
from ack_measure import (
    CPU_NAMES,
    CUSTOMERS,
    SERVICE_NAMES,
    cpu_line,
    describe,
    drive,
    integrity,
    latency_stats,
    per_update,
)
from ack_profile import summarise_profile
from pipeline_stack import naive_stack, switchboard_stack
from stack_cpu import system_pids
from stack_db import count_rows
from stack_procs import cleanup_workdir, workdir
from stack_stats import cpu_cell, fmt_ms, med, spread

# --- latency at a fixed rate -----------------------------------------------------------


async def latency_switchboard(backend: str, delivery: bool, args, run: int) -> dict:
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
            phases = [
                ("warmup", args.warmup_rate, args.warmup),
                ("measure", args.rate, args.duration),
            ]
            profile = None
            if args.profile is not None:
                where = (
                    args.profile / f"latency-{backend}-delivery-{'on' if delivery else 'off'}-{run}"
                )
                profile = (
                    where,
                    {k: v for k, v in pids.items() if k in ("ingress", "routing", "delivery")},
                )
            result, shares = await asyncio.to_thread(
                drive,
                f"{stack.ingress_url}/webhook/client",
                phases,
                first_update=1,
                pids=pids,
                measure="measure",
                out=work / "load.json",
                tag="latency",
                drain=args.drain,
                profile=profile,
            )
            phase = result["phases"]["measure"]
            stats = latency_stats(phase, args.bound)
            integrity(stats, stack.database_url, phase)
            per_update(shares, count_rows(stack.database_url, 1, result["next_update"] - 1))
            if profile is not None:
                for name in profile[1]:
                    path = profile[0] / f"{name}.txt"
                    if path.exists():
                        (profile[0] / f"{name}-top.txt").write_text(summarise_profile(path))
    finally:
        cleanup_workdir(work, args.keep)
    stats["cpu"] = shares
    return stats


async def latency_naive(args) -> dict:
    work = workdir(args.keep)
    try:
        async with naive_stack(customers=CUSTOMERS, workdir=work, client=args.naive_client) as (
            naive,
            sandbox,
            _world,
        ):
            pids = {"naive": naive.proc.pid, "sandbox": sandbox.proc.pid}
            phases = [
                ("warmup", args.warmup_rate, args.warmup),
                ("measure", args.rate, args.duration),
            ]
            result, shares = await asyncio.to_thread(
                drive,
                f"{naive.url}/webhook/client",
                phases,
                first_update=1,
                pids=pids,
                measure="measure",
                out=work / "load.json",
                tag="naive",
                drain=args.drain,
            )
            stats = latency_stats(result["phases"]["measure"], args.bound)
            integrity(stats, None, result["phases"]["measure"])
            per_update(shares, sum(p["status"].count(200) for p in result["phases"].values()))
    finally:
        cleanup_workdir(work, args.keep)
    stats["cpu"] = shares
    return stats


def per_update_cell(runs: list[dict]) -> str:
    names = [
        n
        for n in SERVICE_NAMES
        if n != "loadgen" and any(n in r["cpu"].get("ms_per_update", {}) for r in runs)
    ]
    return " · ".join(
        f"{n} {med([r['cpu']['ms_per_update'].get(n, 0.0) for r in runs]):.2f}" for n in names
    )


def latency_table(rows: list[tuple[str, list[dict]]]) -> str:
    out = [
        "| system | runs | p50 ms (median) | p50 runs | p99 ms (median) | p99 runs | max ms "
        "| acked/s (runs) | not acked | every acked update stored once, 2 jobs | CPU cores "
        "(median): ingress · routing · delivery · naive · sandbox · mariadb · load-gen · "
        "others | CPU ms per update (median): ingress · routing · delivery · naive · "
        "sandbox · mariadb |",
        "|---|---:|---:|---|---:|---|---:|---|---:|---|---|---|",
    ]
    for name, runs in rows:
        cpu = {k: med([r["cpu"].get(k, 0.0) for r in runs]) for k in CPU_NAMES}
        present = [k for k in CPU_NAMES if any(k in r["cpu"] for r in runs)]
        lossless = all(r["lossless"] for r in runs)
        db_cell = "n/a (no DB)" if runs[0]["db"] is None else ("yes" if lossless else "**no**")
        out.append(
            f"| {name} | {len(runs)} | **{fmt_ms(med([r['p50'] for r in runs]))}** "
            f"| {spread([r['p50'] for r in runs])} "
            f"| **{fmt_ms(med([r['p99'] for r in runs]))}** "
            f"| {spread([r['p99'] for r in runs])} "
            f"| {fmt_ms(max(r['max'] for r in runs))} "
            f"| {spread([r['ack_rate'] for r in runs], '{:,.0f}')} "
            f"| {sum(r['non200'] for r in runs):,} "
            f"| {db_cell} | {cpu_cell(cpu, [k for k in present if k != 'bench'])} "
            f"| {per_update_cell(runs)} |"
        )
    return "\n".join(out)


async def cmd_latency(args) -> list[tuple[str, list[dict]]]:
    rows = []
    for backend in args.backend:
        for delivery in args.delivery:
            name = f"Switchboard, {backend}, delivery {'on' if delivery else 'off'}"
            runs = []
            for run in range(args.runs):
                stats = await latency_switchboard(backend, delivery, args, run)
                runs.append(stats)
                print(f"{name} run {run + 1}: {describe(stats)}\n    {cpu_line(stats['cpu'])}",
                      flush=True)  # fmt: skip
            rows.append((name, runs))
    if args.naive:
        name = f"naive inline sends ({args.naive_client})"
        runs = []
        for run in range(args.runs):
            stats = await latency_naive(args)
            runs.append(stats)
            print(f"{name} run {run + 1}: {describe(stats)}\n    {cpu_line(stats['cpu'])}",
                  flush=True)  # fmt: skip
        rows.append((name, runs))
    return rows


# --- main ------------------------------------------------------------------------------


def ratio_lines_latency(rows) -> list[str]:
    naive = next((runs for name, runs in rows if name.startswith("naive")), None)
    if naive is None:
        return []
    n50, n99 = med([r["p50"] for r in naive]), med([r["p99"] for r in naive])
    out = []
    for name, runs in rows:
        if name.startswith("naive"):
            continue
        s50, s99 = med([r["p50"] for r in runs]), med([r["p99"] for r in runs])
        rate = med([r["ack_rate"] for r in runs]) / med([r["ack_rate"] for r in naive])
        if s50 == float("inf") or s99 == float("inf"):
            out.append(
                f"- {name}: did not keep up (more than half or more than 1% of the updates "
                f"unacknowledged when the generator stopped waiting); it acknowledged "
                f"{rate:.2f}× as many updates per second as the naive server"
            )
            continue
        out.append(
            f"- {name}: p50 {s50 / n50:.2f}× the naive server's, p99 {s99 / n99:.2f}× "
            f"(above 1 = Switchboard acknowledges slower); acked/s {rate:.2f}×"
        )
    return out


def parse_list(kind):
    def parse(text: str) -> list:
        return [kind(x) for x in text.split(",") if x]

    return parse


def onoff(text: str) -> list[bool]:
    values = [x.strip() for x in text.split(",") if x.strip()]
    if any(v not in ("on", "off") for v in values):
        raise argparse.ArgumentTypeError("use on, off or on,off")
    return [v == "on" for v in values]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", type=parse_list(str), default=["sqlite", "mariadb"])
    common.add_argument("--runs", type=int, default=2)
    common.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    common.add_argument("--warmup-rate", type=float, default=50.0, help="updates/s while warming")
    common.add_argument(
        "--drain",
        type=float,
        default=30.0,
        help="seconds the generator waits for answers after its last send; later = not acked",
    )
    common.add_argument("--bound", type=float, default=250.0, help="p99 bound (ms) for 'held'")
    common.add_argument("--no-naive", dest="naive", action="store_false")
    common.add_argument("--naive-client", choices=("aiogram", "aiohttp"), default="aiogram")
    common.add_argument("--log-level", default="INFO", help="the services' log level")
    common.add_argument(
        "--lane-rate",
        type=float,
        default=50.0,
        help="dispatches/s per lane with delivery on (50: the production default)",
    )
    common.add_argument(
        "--shape",
        choices=("embedded", "production"),
        default="embedded",
        help="production: calls between services signed (token mode), /metrics on every service",
    )
    common.add_argument("--markdown", type=Path, help="append the tables to this file")
    common.add_argument("--keep", type=Path, help="keep logs and databases in this folder")
    lat = sub.add_parser("latency", parents=[common], help="ack latency at a fixed rate")
    lat.add_argument("--rate", type=float, default=500.0)
    lat.add_argument("--duration", type=float, default=30.0)
    lat.add_argument("--delivery", type=onoff, default=[True, False])
    lat.add_argument("--profile", type=Path, help="py-spy the services into this folder")
    top = sub.add_parser("max", parents=[common], help="highest sustained rate, nothing lost")
    top.add_argument(
        "--rates",
        type=parse_list(float),
        default=[50, 100, 150, 200, 300, 400, 500, 750, 1000, 1250, 1500],
    )
    top.add_argument("--step", type=float, default=15.0, help="seconds per rate")
    top.add_argument("--pause", type=float, default=3.0, help="seconds between steps")
    top.add_argument("--failures", type=int, default=1, help="stop after this many failed steps")
    top.add_argument("--delivery", type=onoff, default=[False])
    args = parser.parse_args()

    began = time.monotonic()
    if args.command == "latency":
        rows = asyncio.run(cmd_latency(args))
        header = (
            f"Webhook ack latency at {args.rate:g} updates/s for {args.duration:g} s "
            f"(after {args.warmup:g} s warm-up), open loop, latency from the scheduled send "
            f"time; {CUSTOMERS} customers, each update routed to a CS and a CR topic; "
            f"{args.runs} runs per line, fresh stack per run; services {args.shape}."
        )
        table = latency_table(rows)
        ratios = ratio_lines_latency(rows)
    else:
        rows = asyncio.run(cmd_max(args))
        header = (
            f"Highest sustained rate: steps of {args.step:g} s at "
            f"{', '.join(f'{r:g}' for r in args.rates)} updates/s on one stack per run; a step "
            f"holds when all answers are 200, p99 < {args.bound:g} ms, the last second's slowest "
            f"< {args.bound:g} ms and the database holds exactly one row (and two jobs) per "
            f"update. Cells: p99 of each run (✗ = the step failed)."
        )
        table = max_table(rows, args.rates)
        ratios = ratio_lines_max(rows)
    text = f"{header}\n\n{table}\n" + ("\n" + "\n".join(ratios) + "\n" if ratios else "")
    print(f"\n{text}\n(wall time {time.monotonic() - began:.0f} s)")
    if args.markdown is not None:
        with args.markdown.open("a") as out:
            out.write(text + "\n")
        print(f"appended to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
