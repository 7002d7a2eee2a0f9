"""After a conversation (client → topics → client) and two admin calls, each of the four
services' /metrics answers, lists every metric docs/metrics.md documents for it, and
has counted what happened — with every service a process, on SQLite and MariaDB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from servicekit import api_keys
from servicekit.lanes import LANES
from services.routing.operations import api_keys as stored_keys
from switchboard.operations.v1 import operations_pb2
from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import WAIT, eventually
from tests.e2e.world import wait_text
from tests.integration.routing.databases import Sessions
from tests.unit.test_metrics_documented import in_doc

# The outbox gauges are counted often enough to see them settle within the test.
pytestmark = pytest.mark.stack_env(routing={"OUTBOX_METRICS_INTERVAL_SECONDS": "0.2"})


class Scrape:
    """One service's /metrics: its families, and its samples by name and labels."""

    def __init__(self, text: str) -> None:
        self.families: dict[str, str] = {}  # name as exposed (counters with _total) -> type
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for family in text_string_to_metric_families(text):
            exposed = family.name + ("_total" if family.type == "counter" else "")
            self.families[exposed] = family.type
            for sample in family.samples:
                self.samples[sample.name].append((sample.labels, sample.value))

    def value(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels` (0 when none)."""
        return sum(
            value
            for have, value in self.samples.get(name, [])
            if all(have.get(k) == v for k, v in labels.items())
        )

    def has(self, name: str, **labels: str) -> bool:
        return any(
            all(have.get(k) == v for k, v in labels.items())
            for have, _ in self.samples.get(name, [])
        )


async def scrape(running: Running, service: str) -> Scrape:
    port = running.stack.ports[service].metrics
    assert port is not None, f"{service} runs without a metrics port"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        assert answer.status == 200
        assert answer.content_type == "text/plain"
        return Scrape(await answer.text())


async def admin_key(sessions: Sessions) -> str:
    """A read key made straight in routing's database (as keys_cli makes the first)."""
    new = api_keys.generate()
    async with sessions() as session, session.begin():
        await stored_keys.create_key(
            session,
            key_id=new.key_id,
            name="metrics test",
            scopes=["read"],
            secret_sha256=new.secret_sha256,
            expires_at=None,
            actor=operations_pb2.Actor(kind="system", id="test-setup"),
        )
    return new.token


async def admin_get(running: Running, path: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(running.stack.admin_url + path, headers=headers) as answer,
    ):
        return answer.status


def assert_documented(scrape: Scrape, service: str) -> None:
    expected: Mapping[str, str] = {name: kind for name, kind, _ in in_doc(service)}
    missing = {name for name in expected if name not in scrape.families}
    assert not missing, f"{service} does not expose {sorted(missing)}"
    assert {name: scrape.families[name] for name in expected} == expected


async def test_every_service_counts_a_conversation(running: Running, db_sessions: Sessions) -> None:
    sandbox = running.sandbox
    await sandbox.send(ANN, "@client_bot", "Where is my parcel?")
    for group in (CS_GROUP, CR_GROUP):
        await wait_text(running, group, "Where is my parcel?")
    await sandbox.send(ANNA, CS_GROUP, "On its way", message_thread_id=running.topics[CS_GROUP])
    await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda lines: any(m.get("text", "").endswith("On its way") for m in lines),
        timeout=WAIT,
        what="the staff line in Ann's chat",
    )
    key = await admin_key(db_sessions)
    assert await admin_get(running, "/v1/teams", key) == 200
    assert await admin_get(running, "/v1/teams", None) == 401

    ingress = await scrape(running, "ingress")
    assert_documented(ingress, "ingress")
    assert ingress.value("switchboard_ingress_updates_total", role="client", result="accepted") >= 1
    assert ingress.value("switchboard_ingress_updates_total", role="cs", result="accepted") >= 1
    assert ingress.value("switchboard_ingress_ack_seconds_count") >= 2
    assert ingress.has("switchboard_telegram_pending_updates", role="client")

    delivery = await scrape(running, "delivery")
    assert_documented(delivery, "delivery")
    for bot in ("client", "cs", "cr"):
        sent = {"bot": bot, "method": "send_text", "outcome": "sent"}
        assert delivery.value("switchboard_delivery_sends_total", **sent) >= 1, bot
        call = {"bot": bot, "method": "sendMessage"}
        assert delivery.value("switchboard_telegram_requests_total", **call, result="ok") >= 1
        assert delivery.value("switchboard_telegram_request_seconds_count", **call) >= 1
    assert delivery.value("switchboard_delivery_queue_lag_seconds_count") >= 3
    assert delivery.value("switchboard_delivery_pacing_wait_seconds_count") >= 3

    routing = await scrape(running, "routing")
    assert_documented(routing, "routing")
    assert routing.value("switchboard_routing_updates_total", status="accepted") >= 2
    assert routing.value("switchboard_outbox_jobs_total", status="succeeded") >= 3
    assert routing.value("switchboard_outbox_jobs_total", status="failed") == 0
    assert all(routing.has("switchboard_outbox_pending_jobs", lane=lane) for lane in LANES)

    async def outbox_pending() -> float:
        return (await scrape(running, "routing")).value("switchboard_outbox_pending_jobs")

    # Everything was delivered: the periodic count comes down to nothing left.
    await eventually(outbox_pending, lambda n: n == 0, timeout=WAIT, what="an empty outbox")

    admin = await scrape(running, "admin")
    assert_documented(admin, "admin")
    assert admin.value("switchboard_admin_calls_total", action="teams.list", result="ok") == 1
    calls = {"action": "teams.list", "result": "unauthenticated"}
    assert admin.value("switchboard_admin_calls_total", **calls) == 1
    assert admin.value("switchboard_admin_call_seconds_count", action="teams.list") == 2
