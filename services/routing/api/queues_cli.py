"""Cloud Tasks queues for the lanes, from routing's settings (SWITCHBOARD_ROUTING_LANES,
_CLOUD_TASKS_PROJECT, _CLOUD_TASKS_LOCATION, _CLOUD_TASKS_EMULATOR).

    python -m services.routing.api.queues_cli apply [--json]   # create or update one queue per lane
    python -m services.routing.api.queues_cli list [--json]    # the queues with their settings

`apply` is idempotent: it reports per lane created, updated, unchanged, or "not applied"
when the server answers other values than asked. Credentials: Application Default
Credentials (Workload Identity on GKE), needing roles/cloudtasks.queueAdmin.
Exit status: 0 done; 1 a queue is not as configured, or Cloud Tasks failed; 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.cloud import tasks_v2

from servicekit.cli import fail, read_settings, table
from services.routing.outbox.dispatchers.cloud_tasks import make_client
from services.routing.outbox.dispatchers.cloud_tasks_queues import LaneQueue, Provisioner
from services.routing.settings import RoutingSettings

HEADERS = ("lane", "queue", "state", "rate/s", "concurrent", "attempts", "backoff", "doublings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.routing.api.queues_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("apply", "list"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per call (default 30)"
    )
    args = parser.parse_args(argv)
    settings = read_settings(RoutingSettings, name="queues")
    return asyncio.run(
        run(args.command, settings=settings, as_json=args.json, timeout=args.timeout)
    )


async def run(
    command: str,
    *,
    settings: RoutingSettings,
    as_json: bool = False,
    timeout: float = 30.0,
    client: tasks_v2.CloudTasksAsyncClient | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run `apply` or `list`; answer the exit status. A client passed in stays open."""
    if not settings.cloud_tasks_project or not settings.cloud_tasks_location:
        return fail("set SWITCHBOARD_ROUTING_CLOUD_TASKS_PROJECT and _CLOUD_TASKS_LOCATION")
    try:
        own = client is None
        client = client or make_client(emulator=settings.cloud_tasks_emulator)
        provisioner = Provisioner(
            client,
            project=settings.cloud_tasks_project,
            location=settings.cloud_tasks_location,
            timeout=timeout,
        )
        try:
            if command == "apply":
                rows = await provisioner.apply(settings.lanes)
            else:
                rows = await provisioner.lane_queues(settings.lanes)
        finally:
            if own:
                await client.transport.close()
    # Missing, expired or refused credentials alike (ADC, Workload Identity).
    except auth_exceptions.GoogleAuthError as error:
        return fail(f"no Google credentials for Cloud Tasks: {error}")
    except api_exceptions.RetryError:
        return fail(f"Cloud Tasks did not answer within {timeout:g} s")
    except api_exceptions.GoogleAPICallError as error:
        return fail(f"Cloud Tasks refused: {error.message}")
    print(render(rows, as_json=as_json), file=out)
    return 0 if all(row.ok for row in rows) else 1


def render(rows: Sequence[LaneQueue], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([row.as_dict() for row in rows], indent=2)
    applied = any(row.result for row in rows)
    headers = (*HEADERS[:3], "result", *HEADERS[3:], "detail") if applied else HEADERS
    return table(headers, [_cells(row, with_result=applied) for row in rows])


def _cells(row: LaneQueue, *, with_result: bool) -> list[object]:
    short = row.queue.rsplit("/", 1)[-1]
    first = [row.lane or "(not a lane)", short, row.state]
    if with_result:
        first.append(row.result or "")
    s = row.settings
    figures: list[object] = ["-"] * 5
    if s is not None:
        figures = [
            f"{s.max_dispatches_per_second:g}",
            s.max_concurrent_dispatches,
            s.max_attempts,
            f"{s.min_backoff_seconds:g}-{s.max_backoff_seconds:g} s",
            s.max_doublings,
        ]
    return [*first, *figures, *([row.detail] if with_result else [])]


if __name__ == "__main__":
    sys.exit(main())
