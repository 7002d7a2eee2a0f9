"""Running things beside the benchmark: the repository root (put on sys.path, so that
services.* and switchboard.* import when a script runs as `python bench/<script>.py`),
free ports, starting and stopping processes, readiness probes, and the work folder."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PY = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_listening(command: list[str], log: Path, env: dict | None = None) -> tuple:
    """Start a process that prints `... listening on http://HOST:PORT` first; answer
    (process, base URL). Its other output goes to `log`."""
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=sink, env=env, text=True
        )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        stop_process(proc)
        raise RuntimeError(f"{command[2:4]} did not start (said {line!r}); see {log}")
    # Keep reading stdout so the child never blocks on a full pipe.
    threading_drain(proc)
    return proc, match.group(1)


def threading_drain(proc: subprocess.Popen) -> None:
    import threading

    def drain() -> None:
        for _ in proc.stdout:  # type: ignore[union-attr]
            pass

    threading.Thread(target=drain, daemon=True).start()


def workdir(keep: Path | None) -> Path:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep
    return Path(tempfile.mkdtemp(prefix="sb-bench-"))


def cleanup_workdir(path: Path, keep: Path | None) -> None:
    if keep is None:
        shutil.rmtree(path, ignore_errors=True)
