"""pytest fixtures: `sandbox_url` starts one sandbox process per test session on a
free port; `sandbox` gives each test a freshly reset sandbox and a driver client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from .client import SandboxClient

_LISTENING = re.compile(r"listening on (http://\S+)")
START_TIMEOUT = 30.0


def start_sandbox(*extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m sandbox` on a port the kernel picks; answer (process, url)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = _LISTENING.search(line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise RuntimeError("the sandbox did not start (see its output above)")


def stop_sandbox(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    proc, url = start_sandbox()
    try:
        yield url
    finally:
        stop_sandbox(proc)


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[SandboxClient]:
    client = SandboxClient(sandbox_url)
    await client.reset()
    try:
        yield client
    finally:
        await client.close()
