"""Launching the real `gcloud-tasks-emulator` for the Cloud Tasks tests: the test
project and location, the retry count it is started with, a launcher that runs its CLI
bound to loopback, a free-port picker, and a wait until it serves every lane's queue."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from google.api_core import exceptions as api_exceptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from servicekit.lanes import LANES

PROJECT, LOCATION = "switchboard-test", "europe-west1"
LOCATION_PATH = f"projects/{PROJECT}/locations/{LOCATION}"
MAX_RETRIES = 2  # `-r 2`: a failing push is made 1 + 2 times, then the task is dropped
START_TIMEOUT = 20.0

# The emulator's CLI binds the API on [::]:<port> whatever it is told; this runs the
# same CLI with grpc.server's address turned to loopback.
LOOPBACK_LAUNCHER = """
import sys
import grpc
from gcloud_tasks_emulator import __main__ as cli, server

class _LoopbackGrpc:
    @staticmethod
    def server(*args, **kwargs):
        real = grpc.server(*args, **kwargs)
        add = real.add_insecure_port
        real.add_insecure_port = lambda address: add(address.replace("[::]", "127.0.0.1"))
        return real

server.grpc = _LoopbackGrpc
sys.argv[0] = "gcloud-tasks-emulator"
cli.main()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_serving(
    proc: subprocess.Popen, address: str, log: Path, *, with_lanes: bool = True
) -> None:
    """Until the emulator answers ListQueues over gRPC (with every lane's queue, unless
    `with_lanes` is False: an emulator started with no queue)."""
    expected = {f"{LOCATION_PATH}/queues/{lane}" for lane in LANES} if with_lanes else set()
    channel = grpc.insecure_channel(address)
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the emulator exited ({proc.returncode}):\n{_tail(log)}")
            try:
                queues = client.list_queues(parent=LOCATION_PATH, retry=None, timeout=1.0)
                if {queue.name for queue in queues} >= expected:
                    return
            except api_exceptions.GoogleAPICallError:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the emulator did not start in time:\n{_tail(log)}")
            time.sleep(0.05)  # poll interval of a deadline-bound wait
    finally:
        channel.close()


@contextmanager
def running_emulator(log: Path, *, with_lanes: bool = True) -> Iterator[str]:
    """`gcloud-tasks-emulator start` on a free loopback port (with one queue per lane
    unless `with_lanes` is False), its output in `log`; answers its gRPC address."""
    port = free_port()
    queues = [arg for lane in LANES for arg in ("-d", f"{LOCATION_PATH}/queues/{lane}")]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LOOPBACK_LAUNCHER,
                "start",
                "-p",
                str(port),
                "-r",
                str(MAX_RETRIES),
                *(queues if with_lanes else []),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        address = f"127.0.0.1:{port}"
        wait_until_serving(proc, address, log, with_lanes=with_lanes)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
