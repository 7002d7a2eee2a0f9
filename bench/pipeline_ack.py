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
and 200 customers created through routing's CreateCustomer. So each update is routed
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
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from pipeline_stack import (
    PY,
    ROOT,
    SECRETS,
    USER_BASE,
    CpuMeter,
    cleanup_workdir,
    count_recorded,
    count_rows,
    cpu_cell,
    find_pid,
    fmt_ms,
    med,
    naive_stack,
    percentile,
    spread,
    switchboard_stack,
    workdir,
)

LOAD = ROOT / "bench" / "pipeline_load.py"
PY_SPY = shutil.which("py-spy", path=f"{Path(PY).parent}:{os.environ.get('PATH', '')}") or "py-spy"
CUSTOMERS = 200
SERVICE_NAMES = ["ingress", "routing", "delivery", "naive", "sandbox", "mariadb", "loadgen"]
CPU_NAMES = ["ingress", "routing", "delivery", "naive", "sandbox", "mariadb", "loadgen",
             "bench", "py-spy", "others"]  # fmt: skip


# --- running the generator -------------------------------------------------------------


def drive(
    url: str,
    phases: list[tuple[str, float, float]],
    *,
    first_update: int,
    pids: dict[str, int],
    measure: str,
    out: Path,
    tag: str,
    drain: float = 30.0,
    profile: tuple[Path, dict[str, int]] | None = None,
) -> tuple[dict, dict[str, float]]:
    """Run the generator through `phases`; answer its results and the CPU shares of
    every process during the phase named `measure`."""
    command = [PY, str(LOAD), "--url", url, "--secret", SECRETS["client"],
               "--users", f"{USER_BASE}:{CUSTOMERS}", "--first-update", str(first_update),
               "--tag", tag, "--drain", str(drain), "--out", str(out)]  # fmt: skip
    for name, rate, seconds in phases:
        command += ["--phase", f"{name}:{rate:g}:{seconds:g}"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    meter = CpuMeter({**pids, "loadgen": proc.pid})
    whole = CpuMeter({**pids, "loadgen": proc.pid})
    first, last = f"START {phases[0][0]}", f"END {phases[-1][0]}"
    spies: list[subprocess.Popen] = []
    shares: dict[str, float] = {}
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.strip() == first:
            whole.start()
        if line.strip() == last:
            whole.stop()
            # CPU seconds per process over every phase (warm-up included); divided by
            # the updates processed once they are known (see per_update()).
            cpu_seconds = {k: v * whole.wall for k, v in whole.shares.items()}
        if line.strip() == f"START {measure}":
            if profile is not None:
                spies = start_spies(profile[0], profile[1], phases, measure)
                meter.pids.update({f"py-spy:{s.pid}": s.pid for s in spies})
            meter.start()
        elif line.strip() == f"END {measure}":
            shares = meter.stop()
            spy_total = sum(v for k, v in shares.items() if k.startswith("py-spy:"))
            shares = {k: v for k, v in shares.items() if not k.startswith("py-spy:")}
            if spies:
                shares["py-spy"] = spy_total
    if proc.wait() != 0:
        raise RuntimeError("the load generator failed")
    for spy in spies:
        spy.wait(60)
    shares["cpu_seconds"] = cpu_seconds  # type: ignore[assignment]
    return json.loads(out.read_text()), shares


def start_spies(directory: Path, pids: dict[str, int], phases, measure: str) -> list:
    seconds = next(s for n, _, s in phases if n == measure)
    directory.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                PY_SPY,
                "record",
                "--nonblocking",
                "--gil",
                "-r",
                "100",
                "-d",
                str(int(seconds)),
                "-f",
                "raw",
                "-o",
                str(directory / f"{name}.txt"),
                "-p",
                str(pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def package_of(frame: str) -> str:
    """'Session.execute (sqlalchemy/orm/session.py:2555)' -> 'sqlalchemy'."""
    where = frame.rpartition("(")[2].split(":")[0]
    if "site-packages/" in where:
        return where.split("site-packages/")[1].split("/")[0]
    if where.startswith(("services/", "servicekit/")):
        return "/".join(where.split("/")[:2])
    return where.split("/")[0] if "/" in where else where or "?"


def summarise_profile(path: Path, top: int = 20) -> str:
    """Self shares by package and by function, and inclusive shares of our own code's
    functions, from a py-spy raw profile. (SQLAlchemy's async layer runs statements in
    greenlets, whose stacks py-spy shows without the caller, so inclusive shares of
    callers of the database undercount: read the self shares by package.)"""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        packages[package_of(frames[-1])] += n
        for frame in set(frames):
            if "services/" in frame or "servicekit/" in frame:
                inclusive[frame] += n
    if not total:
        return f"{path.name}: no samples\n"
    lines = [
        f"{path.stem}: {total} samples (py-spy --gil: time holding the GIL)",
        "  self%  package",
    ]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in packages.most_common(12)]
    lines += ["  self%  function"]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["  incl%  our code"]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def latency_stats(phase: dict, bound: float) -> dict:
    """Percentiles over every update sent: one not acknowledged (no answer within the
    generator's drain time, or not 200) counts as infinitely late, so an overloaded run
    shows ∞ rather than the latency of the few that got through."""
    status = Counter(phase["status"])
    lat = [
        v if s == 200 else float("inf")
        for v, s in zip(phase["latency_ms"], phase["status"], strict=True)
    ]
    n = phase["sent"]
    last = [v for i, v in enumerate(lat) if i >= n - phase["rate"]]  # the last second
    acked = [v for v in lat if v != float("inf")]
    return {
        "sent": n,
        "ok": status.get(200, 0),
        "non200": n - status.get(200, 0),
        # -1: no answer within the generator's drain time; 0: the connection failed.
        "unanswered": status.get(-1, 0),
        "statuses": {str(k): v for k, v in status.items() if k != 200},
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": max(lat) if lat else float("inf"),
        "acked_p50": percentile(acked, 50),
        "last_second_max": max(last) if last else float("inf"),
        # Acknowledged updates per second, from the first scheduled send to the last ack.
        "ack_rate": status.get(200, 0) / phase["ack_span_seconds"]
        if phase["ack_span_seconds"]
        else 0.0,
        "send_lag_p99": phase["send_lag_p99_ms"],
        "tick_lag_p99": phase["tick_lag_p99_ms"],
        "connections": phase["most_connections"],
        "held": False,
        "bound": bound,
    }


def integrity(stats: dict, database_url: str | None, phase: dict) -> None:
    """Check the database against what was acknowledged (Switchboard only): every
    update answered 200 has exactly one inbound_updates row and two jobs, no update
    has two rows, and nothing outside what was sent is there."""
    if database_url is None:
        stats["db"] = None
        stats["lossless"] = stats["non200"] == 0
        return
    first, n = phase["first_update"], phase["sent"]
    found = count_recorded(database_url, first, first + n - 1, settle=True)
    ids = Counter(found["ids"])
    acked = {first + k for k, status in enumerate(phase["status"]) if status == 200}
    missing = [u for u in acked if u not in ids]
    repeated = [u for u, c in ids.items() if c > 1]
    stats["db"] = {
        "rows": len(found["ids"]),
        "acked": len(acked),
        "missing": len(missing),
        "repeated": len(repeated),
        "jobs": found["jobs"],
        "job_status": found["job_status"],
    }
    stats["lossless"] = not missing and not repeated and found["jobs"] == 2 * len(ids)


def describe(stats: dict) -> str:
    db = stats.get("db")
    db_note = (
        f"db rows {db['rows']} (acked {db['acked']}, missing {db['missing']}, repeated "
        f"{db['repeated']}) jobs {db['jobs']} {db['job_status']}"
        if db
        else "no db (naive)"
    )
    bad = f" non-200 {stats['statuses']}" if stats["non200"] else ""
    return (
        f"p50 {fmt_ms(stats['p50'])} ms  p99 {fmt_ms(stats['p99'])} ms  "
        f"max {fmt_ms(stats['max'])} ms  acked {stats['ok']}/{stats['sent']} "
        f"({stats['ack_rate']:.0f}/s){bad}  {db_note}  "
        f"generator: late by p99 {stats['tick_lag_p99']:.1f} ms, waited for a connection "
        f"p99 {stats['send_lag_p99']:.1f} ms, {stats['connections']} connections"
    )


def per_update(shares: dict, processed: int) -> None:
    """CPU ms per processed update over the whole generator run, per process."""
    seconds = shares.pop("cpu_seconds", {})
    shares["ms_per_update"] = {k: v / processed * 1000 for k, v in seconds.items() if processed}  # type: ignore[assignment]


def cpu_line(shares: dict) -> str:
    per = shares.get("ms_per_update", {})
    names = [n for n in SERVICE_NAMES if n in per]
    return (
        "CPU cores "
        + cpu_cell(shares, CPU_NAMES)
        + "\n    CPU ms/update (all phases) "
        + " · ".join(f"{n} {per[n]:.2f}" for n in names)
    )


def system_pids(stack, sandbox, backend: str) -> dict[str, int]:
    pids = {**stack.pids(), "sandbox": sandbox.proc.pid}
    if backend == "mariadb":
        found = find_pid("mariadbd") or find_pid("mysqld")
        if found:
            pids["mariadb"] = found
    return pids


# --- latency at a fixed rate -----------------------------------------------------------


async def latency_switchboard(backend: str, delivery: bool, args, run: int) -> dict:
    work = workdir(args.keep)
    try:
        async with switchboard_stack(
            backend, customers=CUSTOMERS, delivery=delivery, log_level=args.log_level,
            workdir=work, keep=args.keep is not None, lane_rate=args.lane_rate,
        ) as (stack, sandbox, _world):  # fmt: skip
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
                drive, f"{stack.ingress_url}/webhook/client", phases, first_update=1,
                pids=pids, measure="measure", out=work / "load.json", tag="latency",
                drain=args.drain, profile=profile,
            )  # fmt: skip
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
            naive, sandbox, _world,
        ):  # fmt: skip
            pids = {"naive": naive.proc.pid, "sandbox": sandbox.proc.pid}
            phases = [
                ("warmup", args.warmup_rate, args.warmup),
                ("measure", args.rate, args.duration),
            ]
            result, shares = await asyncio.to_thread(
                drive, f"{naive.url}/webhook/client", phases, first_update=1, pids=pids,
                measure="measure", out=work / "load.json", tag="naive", drain=args.drain,
            )  # fmt: skip
            stats = latency_stats(result["phases"]["measure"], args.bound)
            integrity(stats, None, result["phases"]["measure"])
            per_update(shares, sum(p["status"].count(200) for p in result["phases"].values()))
    finally:
        cleanup_workdir(work, args.keep)
    stats["cpu"] = shares
    return stats


def per_update_cell(runs: list[dict]) -> str:
    names = [n for n in SERVICE_NAMES if n != "loadgen"
             and any(n in r["cpu"].get("ms_per_update", {}) for r in runs)]  # fmt: skip
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
        drive, url, [("warmup", args.warmup_rate, args.warmup)], first_update=next_update,
        pids=pids, measure="warmup", out=work / "warm.json", tag=tag, drain=args.drain,
    )  # fmt: skip
    next_update = result["next_update"]
    for rate in args.rates:
        await asyncio.sleep(args.pause)
        result, shares = await asyncio.to_thread(
            drive, url, [("step", rate, args.step)], first_update=next_update, pids=pids,
            measure="step", out=work / f"step-{rate:g}.json", tag=tag, drain=args.drain,
        )  # fmt: skip
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
            backend, customers=CUSTOMERS, delivery=delivery, log_level=args.log_level,
            workdir=work, keep=args.keep is not None, lane_rate=args.lane_rate,
        ) as (stack, sandbox, _world):  # fmt: skip
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
            naive, sandbox, _world,
        ):  # fmt: skip
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
        "--lane-rate", type=float, default=50.0,
        help="dispatches/s per lane with delivery on (50: the production default)",
    )  # fmt: skip
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
            f"{args.runs} runs per line, fresh stack per run."
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
