"""Benchmark (not a test): how many sendMessage calls per second one sandbox process answers.

    .venv/bin/python bench/sandbox_throughput.py [--duration 8] [--runs 3] [--markdown FILE]

Each run starts a fresh sandbox (demo scenario, rate limits off) on a free port, warms it
up, then drives it closed-loop: with wrk (cheap, the main figure) and with a small aiohttp
client that posts form-urlencoded bodies the way aiogram's AiohttpSession does. A fresh
process per run matters: the sandbox keeps every message, and full GC pauses grow with
that heap. The table shows medians of the runs; CPU columns are cores busy during a run,
read from /proc: the sandbox process, the load generator, and everything else on the
machine (it is shared, so other tenants may be taking CPU while we measure)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "sandbox" / "scenarios" / "demo.json"
LUA = Path(__file__).with_name("sendmessage.lua")
PATH = "/bot1002:cs-secret/sendMessage"  # the CS bot, admin of the CS forum group
FORM = {"chat_id": "-1002001", "text": "Benchmark message from aiohttp"}
TICK = os.sysconf("SC_CLK_TCK")
# (tool, concurrent connections); wrk always uses 2 threads.
CONFIGS = [("wrk", 16), ("wrk", 64), ("aiohttp", 16), ("aiohttp", 64)]


@contextmanager
def sandbox():
    """A sandbox subprocess on a free port; yields (base URL, pid)."""
    command = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"]
    command += ["--no-limits", "--scenario", str(SCENARIO), "--log-level", "WARNING"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if match is None:
            raise RuntimeError(f"sandbox did not start (said {line!r})")
        yield match.group(1), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (every tenant)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK  # minus idle and iowait


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_wrk(url: str, connections: int, seconds: float) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", str(LUA), url + PATH], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(found.group(1)),
        "p50": wrk_ms(out, "50%"),
        "p99": wrk_ms(out, "99%"),
        "errors": int(bad.group(1)) if bad else 0,
        "note": errors.group(0) if errors else "",
    }


def wrk_ms(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def client(url: str, connections: int, seconds: float) -> dict:
    """`connections` workers, each posting sendMessage back to back like aiogram does:
    FormData without files (form-urlencoded), read the text, parse the JSON."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while (started := time.perf_counter()) < stop:
            form = aiohttp.FormData(quote_fields=False)
            for key, value in FORM.items():
                form.add_field(key, value)
            async with session.post(url + PATH, data=form) as resp:
                answer = json.loads(await resp.text())
            latencies.append(time.perf_counter() - started)
            errors += resp.status != 200 or not answer.get("ok")

    # AiohttpSession's connector: at most 100 connections, kept alive between calls.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        begun = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.perf_counter() - begun
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
        "note": "",
    }


def one_run(tool: str, connections: int, args: argparse.Namespace) -> dict:
    """Fresh sandbox, warm-up, then one measured run with the CPU it cost."""
    with sandbox() as (url, pid):
        drive = run_wrk if tool == "wrk" else lambda *a: asyncio.run(client(*a))
        drive(url, connections, args.warmup)
        own_cpu = children_cpu if tool == "wrk" else self_cpu
        before = (time.perf_counter(), process_cpu(pid), own_cpu(), machine_cpu())
        result = drive(url, connections, args.duration)
        after = (time.perf_counter(), process_cpu(pid), own_cpu(), machine_cpu())
    wall = after[0] - before[0]
    result["sandbox_cpu"], result["client_cpu"], machine = (
        (after[i] - before[i]) / wall for i in (1, 2, 3)
    )
    result["other_cpu"] = max(0.0, machine - result["sandbox_cpu"] - result["client_cpu"])
    # CPU the sandbox spends per call: steadier than req/s when others take the CPU.
    result["us_per_call"] = result["sandbox_cpu"] / result["rps"] * 1e6
    return result


def table(rows: list[tuple[str, list[dict]]]) -> str:
    lines = [
        "| load generator | median req/s | runs req/s | p50 ms | p99 ms | sandbox CPU "
        "| sandbox CPU µs/call | load-gen CPU | others' CPU | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in rows:
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "note"}
        spread = " / ".join(f"{r['rps']:,.0f}" for r in runs)
        lines.append(
            f"| {name} | **{med['rps']:,.0f}** | {spread} | {med['p50']:.2f} | {med['p99']:.1f} "
            f"| {med['sandbox_cpu']:.2f} | {med['us_per_call']:.0f} | {med['client_cpu']:.2f} "
            f"| {med['other_cpu']:.2f} | {sum(r['errors'] for r in runs)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()

    configs = CONFIGS
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt install wrk): measuring with the Python client only")
        configs = [c for c in CONFIGS if c[0] != "wrk"]
    rows = []
    for tool, connections in configs:
        name = f"wrk -t2 -c{connections}" if tool == "wrk" else f"aiohttp client, {connections}"
        runs = []
        for i in range(args.runs):
            runs.append(one_run(tool, connections, args))
            r = runs[-1]
            print(
                f"{name:<22} run {i + 1}: {r['rps']:8,.0f} req/s  p50 {r['p50']:6.2f} ms  "
                f"p99 {r['p99']:7.1f} ms  CPU: sandbox {r['sandbox_cpu']:.2f}, "
                f"load-gen {r['client_cpu']:.2f}, others {r['other_cpu']:.2f}  {r['note']}",
                flush=True,
            )
        rows.append((name, runs))

    result = table(rows)
    header = (
        f"sendMessage, {args.runs} runs × {args.duration:g} s each (after {args.warmup:g} s "
        f"warm-up), fresh sandbox per run, rate limits off; CPU = cores busy during a run."
    )
    busiest = max(r["other_cpu"] for _, runs in rows for r in runs)
    if busiest > 0.25:
        header += f" Other processes took up to {busiest:.2f} cores: figures are low."
    print(f"\n{header}\n\n{result}")
    if args.markdown is not None:
        args.markdown.write_text(f"{header}\n\n{result}\n")
        print(f"\nwrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
