"""SIGTERM to each service in turn while clients write 100 lines a second: each service
exits 0 within its grace, comes back, and in the end every update ingress acknowledged
is stored and its copy is in the customer's CS topic exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest

from servicekit.grpc_client import channel
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from tests.e2e.conftest import CS_GROUP, CS_TOKEN, FAST_PACING, SEEDER, Running, lanes_env
from tests.e2e.waiting import eventually
from tests.e2e.webhook_load import FIRST_UPDATE, WebhookLoad, line
from tests.e2e.world import inbound_updates, wait_settled
from tests.integration.routing.databases import Sessions

RATE = 100.0  # updates a second
CUSTOMERS = 40  # destinations: each topic takes one line at a time, in order
GRACE = 10.0  # shutdown_grace_seconds (the default)
EXIT_MARGIN = 3.0  # seconds past the grace for cleanups and the interpreter's exit
MORE_AFTER_RESTART = 100  # acked updates, ~1 s of load, with the service back
WAIT = 30.0  # seconds any one condition may take
CLIENT_BOT = 1001
FIRST_USER = 810_000


async def add_customers(running: Running, make_bot) -> list[int]:
    """CUSTOMERS customers, each with a topic in the CS group only (one copy a line),
    imported through the operations API."""
    bot = make_bot(CS_TOKEN)
    users = [FIRST_USER + i for i in range(CUSTOMERS)]
    threads = [(await bot.create_forum_topic(CS_GROUP, f"Client {u}")) for u in users]
    async with channel(running.stack.routing_target) as routing:
        operations = operations_pb2_grpc.OperationsServiceStub(routing)
        for user, thread in zip(users, threads, strict=True):
            await operations.ImportCustomer(
                operations_pb2.ImportCustomerRequest(
                    telegram_user_id=user,
                    display_name=f"Client {user}",
                    email=f"{user}@example.com",
                    topics=[
                        operations_pb2.ExistingTopic(
                            chat_id=CS_GROUP,
                            message_thread_id=thread.message_thread_id,
                            name=thread.name,
                        )
                    ],
                    actor=SEEDER,
                )
            )
    return users


async def cs_copies(running: Running) -> list[str]:
    seen = await running.sandbox.messages(CS_GROUP)
    return [m["text"] for m in seen if m["from"]["is_bot"] and m["kind"] == "text"]


def drain_seconds(running: Running, service: str) -> list[float]:
    """Every drain `service` logged (one per SIGTERM)."""
    text = (running.stack.logs / f"{service}.log").read_text()
    events = [json.loads(row) for row in text.splitlines() if row.startswith("{")]
    return [e["drain_seconds"] for e in events if e.get("message") == "drained"]


@pytest.mark.slow
@pytest.mark.stack_env(
    routing={
        "LANES": lanes_env(
            max_dispatches_per_second=500,
            max_concurrent_dispatches=32,
            min_backoff_seconds=0.2,
            max_backoff_seconds=1,
        ),
        **FAST_PACING,
    },
    delivery=FAST_PACING,
)
async def test_sigterm_to_each_service_under_load_loses_and_repeats_nothing_acked(
    running: Running, db_sessions: Sessions, make_bot
) -> None:
    stack = running.stack
    load = WebhookLoad(stack, rate=RATE, users=await add_customers(running, make_bot))
    load.start()
    await eventually(
        lambda: len(load.acked) >= MORE_AFTER_RESTART, what="the load acked", timeout=WAIT
    )
    stops: dict[str, tuple[int | None, float]] = {}
    for service in ("ingress", "routing", "delivery", "admin"):
        signalled = time.monotonic()
        code = await asyncio.to_thread(stack.stop, service)  # SIGTERM, then wait for exit
        stops[service] = (code, time.monotonic() - signalled)
        stack.start(service)
        await stack.wait_ready(service)
        back = len(load.acked)
        await eventually(
            lambda back=back: len(load.acked) >= back + MORE_AFTER_RESTART,
            what=f"updates acked again after {service} came back",
            timeout=WAIT,
        )
    await load.stop()

    for service, (code, took) in stops.items():
        assert code == 0, f"{service} exited {code}: {stack.tail(service)}"
        assert took < GRACE + EXIT_MARGIN, f"{service} took {took:.1f}s to stop"
        assert len(drain_seconds(running, service)) == 1, f"{service} logged no drain"
    acked = {line(k) for k in load.acked}
    await eventually(
        lambda: cs_copies(running),
        lambda seen: acked <= set(seen),
        timeout=WAIT,
        interval=0.5,
        what="a copy of every acked line in the CS topics",
    )
    await wait_settled(running, db_sessions, timeout=WAIT)
    copies = Counter(await cs_copies(running))
    stored = {u.update_id for u in await inbound_updates(db_sessions, bot_id=CLIENT_BOT)}

    assert {FIRST_UPDATE + k for k in load.acked} <= stored
    assert not {text: n for text, n in copies.items() if n > 1}, "a line was copied twice"
    assert acked <= set(copies)
    print(  # the measured figures, for the record (pytest -s)
        f"\nposted {load.posted}, acked {len(load.acked)}, refused {len(load.refused)}, "
        f"no answer {len(load.failed)}; stored {len(stored)}, copies {sum(copies.values())}; "
        + "; ".join(
            f"{s}: exit {code} in {took:.2f}s (drained {drain_seconds(running, s)[0]:.2f}s)"
            for s, (code, took) in stops.items()
        )
    )
