"""One stretch of load for pipeline_ack.py: drive the generator (bench/pipeline_load.py)
through its phases while metering CPU, turn its answers into latency statistics, check
the database against what was acknowledged, and print a run's line."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from ack_profile import start_spies
from stack_cast import SECRETS, USER_BASE
from stack_cpu import CpuMeter
from stack_db import count_recorded
from stack_procs import PY, ROOT
from stack_stats import cpu_cell, fmt_ms, percentile

LOAD = ROOT / "bench" / "pipeline_load.py"
CUSTOMERS = 200
SERVICE_NAMES = ["ingress", "routing", "delivery", "naive", "sandbox", "mariadb", "loadgen"]
CPU_NAMES = [
    "ingress",
    "routing",
    "delivery",
    "naive",
    "sandbox",
    "mariadb",
    "loadgen",
    "bench",
    "py-spy",
    "others",
]


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
    command = [
        PY,
        str(LOAD),
        "--url",
        url,
        "--secret",
        SECRETS["client"],
        "--users",
        f"{USER_BASE}:{CUSTOMERS}",
        "--first-update",
        str(first_update),
        "--tag",
        tag,
        "--drain",
        str(drain),
        "--out",
        str(out),
    ]
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
