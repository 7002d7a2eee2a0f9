"""One correlation id follows a client's line from ingress through routing to every
send, in every service's JSON logs; no token or secret is ever logged."""

from __future__ import annotations

import json

from tests.e2e.conftest import ANN, CR_GROUP, CS_GROUP, Running
from tests.e2e.stack import PUSH_SECRET, SECRETS, TOKENS
from tests.e2e.waiting import eventually


def _events(running: Running, service: str) -> list[dict]:
    text = (running.stack.logs / f"{service}.log").read_text()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_a_correlation_id_follows_the_line_to_every_send(running: Running) -> None:
    sandbox = running.sandbox
    await sandbox.send(ANN, "@client_bot", "trace me")
    for group in (CS_GROUP, CR_GROUP):
        await eventually(
            lambda g=group: sandbox.messages(g, thread_id=running.topics[g]),
            lambda lines: any(m.get("text") == "trace me" for m in lines),
            timeout=20,
        )
    routed = [
        e
        for e in _events(running, "routing")
        if e["message"] == "update processed" and e.get("jobs") == 2
    ]
    assert len(routed) == 1
    cid = routed[0]["correlation_id"]
    assert cid

    async def delivered() -> list[dict]:
        # Delivery logs a send once Telegram answered, a moment after the copy shows.
        return [
            e
            for e in _events(running, "delivery")
            if e["message"] == "job delivered" and e["correlation_id"] == cid
        ]

    await eventually(delivered, lambda sends: len(sends) == 2, timeout=10)


async def test_no_secret_reaches_a_log(running: Running) -> None:
    await running.sandbox.send(ANN, "@client_bot", "hello")
    await eventually(
        lambda: running.sandbox.messages(CS_GROUP, thread_id=running.topics[CS_GROUP]),
        lambda lines: any(m.get("text") == "hello" for m in lines),
        timeout=20,
    )
    secrets = [*TOKENS.values(), *SECRETS.values(), PUSH_SECRET]
    for service in ("ingress", "routing", "delivery"):
        text = (running.stack.logs / f"{service}.log").read_text()
        leaked = [s for s in secrets if s in text]
        assert leaked == [], f"{service} logged a secret"
