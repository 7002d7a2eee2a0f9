"""CPU accounting from /proc: CPU seconds of a process, of the whole machine and of this
script, and cores busy per process over a measured window."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (every tenant)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK  # minus idle and iowait


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def find_pid(comm: str) -> int | None:
    """The pid of a running program by its /proc comm (e.g. mariadbd), for CPU shares."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    return int(entry.name)
            except OSError:
                continue
    return None


class CpuMeter:
    """Cores busy per named process between start() and stop(), plus the machine."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self._before: dict[str, float] = {}
        self._t0 = 0.0
        self.shares: dict[str, float] = {}
        self.wall = 0.0

    def _sample(self) -> dict[str, float]:
        out = {name: process_cpu(pid) for name, pid in self.pids.items()}
        out["bench"] = self_cpu()
        out["machine"] = machine_cpu()
        return out

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._before = self._sample()

    def stop(self, extra: dict[str, float] | None = None) -> dict[str, float]:
        """Answer cores per process; `extra` adds CPU seconds measured elsewhere (the
        load generator's own getrusage)."""
        after = self._sample()
        wall = self.wall = time.perf_counter() - self._t0
        shares = {name: (after[name] - self._before[name]) / wall for name in after}
        for name, seconds in (extra or {}).items():
            shares[name] = seconds / wall
        known = sum(v for k, v in shares.items() if k != "machine")
        shares["others"] = max(0.0, shares["machine"] - known)
        self.shares = shares
        return shares


def system_pids(stack, sandbox, backend: str) -> dict[str, int]:
    """The pids whose CPU a benchmark reads: the stack's services, its sandbox and, on
    MariaDB, the database server."""
    pids = {**stack.pids(), "sandbox": sandbox.proc.pid}
    if backend == "mariadb":
        found = find_pid("mariadbd") or find_pid("mysqld")
        if found:
            pids["mariadb"] = found
    return pids
