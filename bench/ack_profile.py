"""py-spy for pipeline_ack.py latency --profile: sample the services during the measured
window and summarise where their time went, by package and function."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from stack_procs import PY

PY_SPY = shutil.which("py-spy", path=f"{Path(PY).parent}:{os.environ.get('PATH', '')}") or "py-spy"


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
