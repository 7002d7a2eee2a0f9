"""The soak: the seed's four weeks — 10,710 sends in its mix — replayed in minutes against
2 ingress, 2 routing and 3 delivery processes on MariaDB, with Telegram's limits on
(scaled by K, Switchboard's pacing by the same K), 10 % 5xx, 2 % 429 and 1 % timeouts
injected, each service SIGKILLed once and the MariaDB server restarted once while the
people write. It prints what arrived, what was lost, duplicated or out of order, the
429s and the CPU per delivered copy (bench/soak_run.py does the run, soak_check.py the
counting, soak_report.py the table; docs/benchmarks.md has the results).

    .venv/bin/python bench/soak.py                       # the full run (~10-15 min)
    .venv/bin/python bench/soak.py --sends 2000 --scale 50 --markdown /tmp/soak.md

The database restart (`--db-restart`):
- `private` (default): a MariaDB server of the machine's binary started by the soak on
  its own port and data folder (mariadb-install-db), stopped with SIGTERM and started
  again mid-run. A real server restart that disturbs nobody else using the machine's
  server (other test runs share it).
- `machine`: the machine's own server (`$SWITCHBOARD_BENCH_MARIADB_URL`): stopped with
  SIGTERM to mariadbd, started again as the machine starts it (`start-stop-daemon --start
  --oknodo --background --exec /usr/sbin/mariadbd`); whatever happens, the soak starts it
  again before it exits.
- `none`: no outage."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench.soak_report import SoakResult, markdown_table  # noqa: E402
from bench.soak_run import Soak, SoakSettings  # noqa: E402
from bench.stack_cpu import find_pid  # noqa: E402
from bench.stack_procs import PY, start_listening, stop_process  # noqa: E402
from sandbox.client import SandboxClient  # noqa: E402
from services.routing.db.urls import async_url, sync_url  # noqa: E402

MARIADBD = "/usr/sbin/mariadbd"
MACHINE_URL = os.environ.get("SWITCHBOARD_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    engine = create_engine(sync_url(url), poolclass=NullPool, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as db:
            db.exec_driver_sql("SELECT 1")
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _wait_answers(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(url):
            return
        time.sleep(0.2)
    raise TimeoutError(f"MariaDB at {make_url(url).host}:{make_url(url).port} did not answer")


def _stop_pid(pid: int, timeout: float = 60.0) -> None:
    os.kill(pid, signal.SIGTERM)  # mariadbd shuts down cleanly on SIGTERM
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


class PrivateServer:
    """A MariaDB server of its own: data folder, port, socket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _port()
        self.proc: subprocess.Popen | None = None
        self.url = f"mysql+pymysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        with (self.folder / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    MARIADBD,
                    "--no-defaults",
                    f"--datadir={self.folder / 'data'}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={self.folder / 'sock'}",
                    f"--pid-file={self.folder / 'pid'}",
                    "--user=root",
                    "--max-connections=500",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_answers(self.url)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _stop_pid(self.proc.pid)
            self.proc.wait()

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


class MachineServer:
    """The machine's MariaDB, restarted as the machine starts it."""

    def __init__(self) -> None:
        self.url = MACHINE_URL

    def start(self) -> None:
        subprocess.run(
            ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", MARIADBD],
            check=True,
        )
        _wait_answers(self.url)

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            _stop_pid(pid)

    def pid(self) -> int | None:
        return find_pid("mariadbd")

    def ensure_up(self) -> None:
        if not _answers(self.url):
            self.start()


@contextmanager
def fresh_database(server_url: str):
    engine = create_engine(sync_url(server_url), poolclass=NullPool)
    name = f"sb_soak_{secrets.token_hex(6)}"
    with engine.connect() as db:
        db.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield async_url(sync_url(server_url).set(database=name)).render_as_string(
            hide_password=False
        )
    finally:
        if _answers(server_url):
            with engine.connect() as db:
                db.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


def restarter(server) -> callable:
    async def outage() -> tuple[float, float]:
        began = time.time()
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        return began, time.time()

    return outage


async def main_async(args: argparse.Namespace) -> SoakResult:
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sb-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    server: PrivateServer | MachineServer | None = None
    sandbox_proc = None
    try:
        if args.db_restart == "machine":
            server = MachineServer()
            server.ensure_up()
        else:
            server = PrivateServer(work / "mariadb")
            server.folder.mkdir(parents=True, exist_ok=True)
            server.install()
            server.start()
        with fresh_database(server.url) as url:
            sandbox_proc, sandbox_url = start_listening(
                [PY, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"],
                work / "sandbox.log",
            )
            settings = SoakSettings(
                sends=args.sends,
                scale=args.scale,
                rate=args.rate,
                burst_margin=args.burst_margin,
                concurrency=args.concurrency,
                server_errors=args.server_errors,
                too_many=args.too_many,
                timeouts=args.timeouts,
                kills=not args.no_kills,
                settle_timeout=args.settle_timeout,
                seed=args.seed,
            )
            async with SandboxClient(sandbox_url) as sandbox:
                soak = Soak(
                    settings,
                    sandbox=sandbox,
                    sandbox_url=sandbox_url,
                    database_url=url,
                    logs=work,
                    outage=None if args.db_restart == "none" else restarter(server),
                    sandbox_pid=sandbox_proc.pid,
                    mariadb_pid=server.pid,
                    progress=lambda line: print(line, flush=True),
                )
                result = await soak.run()
        return result
    finally:
        stop_process(sandbox_proc)
        if isinstance(server, MachineServer):
            server.ensure_up()  # whatever happened, the machine's server runs again
        elif server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=10_710)
    parser.add_argument("--scale", type=float, default=50.0, help="time compression K")
    parser.add_argument("--rate", type=float, default=20.0, help="people's actions a second")
    parser.add_argument(
        "--burst-margin",
        type=int,
        default=1,
        help="Switchboard's chat burst this many sends under Telegram's (machine delays)",
    )
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--server-errors", type=float, default=0.10)
    parser.add_argument("--too-many", type=float, default=0.02)
    parser.add_argument("--timeouts", type=float, default=0.01)
    parser.add_argument("--no-kills", action="store_true")
    parser.add_argument("--db-restart", choices=("private", "machine", "none"), default="private")
    parser.add_argument("--settle-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", help="keep the logs (and the MariaDB data) in this folder")
    parser.add_argument("--markdown", help="append the table to this file")
    parser.add_argument("--json", help="write the whole summary to this file")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    summary = result.summary()
    print(json.dumps(summary, indent=1, default=str)[:20000])
    rendered = markdown_table(result)
    print(rendered)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str))
    if args.markdown:
        with Path(args.markdown).open("a") as out:
            out.write(rendered + "\n\n")
    f = result.findings
    return 0 if not f.lost and not f.order_violations and f.unfinished == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
