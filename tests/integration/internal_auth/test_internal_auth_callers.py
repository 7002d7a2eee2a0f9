"""With their keys, the services still work in token mode, each through the channel its
own wiring opens: ingress records updates, delivery claims and reports jobs, admin runs
the operations API, and a seeding tool acts with admin's credential."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from services.admin.settings import AdminSettings
from services.admin.wiring import build as build_admin
from services.ingress.app import METRICS
from services.ingress.app import build as build_ingress
from services.ingress.settings import IngressSettings
from services.routing.db.enums import GroupRole, JobStatus
from services.routing.db.models import StaffGroup
from switchboard.delivery.v1 import delivery_pb2, delivery_pb2_grpc
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from switchboard.routing.v1 import routing_pb2
from tests.integration.internal_auth.conftest import Guarded
from tests.integration.routing.stack import CLIENT_BOT, CS_BOT, add_bots, add_jobs, job_row

CLIENT_TOKEN = f"{CLIENT_BOT}:AAHclientTokenSecretPart0123456789x"
CLIENT_SECRET = "client-webhook-secret-Zq9Lm2"
UPDATE = (
    b'{"update_id":501,"message":{"message_id":7,"date":1700000000,'
    b'"chat":{"id":5001,"type":"private"},"from":{"id":5001,"is_bot":false,'
    b'"first_name":"Ann"},"text":"Hi"}}'
)


async def post_update(guarded: Guarded, **settings: object) -> tuple[int, float]:
    """Post one update to an ingress with these settings: its HTTP status, and how many
    updates routing said it accepted."""
    app = build_ingress(
        IngressSettings(
            http_port=0,
            grpc_port=0,
            routing_target=guarded.routing_target,
            client_token=CLIENT_TOKEN,
            client_webhook_secret=CLIENT_SECRET,
            batch_window_ms=1,
            **settings,
        )
    )
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook/client"
        headers = {"X-Telegram-Bot-Api-Secret-Token": CLIENT_SECRET}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=UPDATE, headers=headers) as resp,
        ):
            await resp.read()
        accepted = app[METRICS].registry.get_sample_value(
            "switchboard_ingress_updates_total", {"role": "client", "result": "accepted"}
        )
        return resp.status, accepted or 0.0
    finally:
        await runner.cleanup()


async def test_ingress_records_updates_with_its_key_and_not_without(guarded: Guarded) -> None:
    await add_bots(guarded.routing.sessions)
    # An ingress left in loopback mode sends no token: routing refuses, Telegram retries.
    status, accepted = await post_update(guarded)
    assert (status, accepted) == (503, 0)

    status, accepted = await post_update(guarded, **guarded.keys.settings()["ingress"])
    assert (status, accepted) == (200, 1)


async def test_delivery_claims_and_reports_a_job_through_its_own_channel(
    guarded: Guarded,
) -> None:
    sessions = guarded.routing.sessions
    await add_bots(sessions)
    (job_id,) = await add_jobs(sessions, -100_777, 3, 1)
    guarded.routing.relay.wake()
    handout = await guarded.handouts.next()
    assert handout.job_id == job_id

    routing = guarded.delivery.worker.routing  # the stub delivery's build() opened
    claim = await routing.ClaimJob(
        routing_pb2.ClaimJobRequest(job_id=str(job_id), attempt=handout.attempt, chat_id=-100_777)
    )
    assert claim.claim == routing_pb2.CLAIM_PROCEED
    report = await routing.ReportOutcome(
        routing_pb2.ReportOutcomeRequest(
            job_id=str(job_id), attempt=handout.attempt, outcome=routing_pb2.OUTCOME_SENT
        )
    )
    assert report.applied
    assert (await job_row(sessions, job_id)).status == JobStatus.SUCCEEDED


async def test_admin_runs_the_operations_api_and_asks_delivery(guarded: Guarded, connect) -> None:
    admin = build_admin(
        AdminSettings(
            http_port=0,
            grpc_port=0,
            routing_target=guarded.routing_target,
            **guarded.keys.settings()["admin"],
        )
    )
    try:
        keys = await admin.ops.ListApiKeys(operations_pb2.ListRequest())
        assert list(keys.keys) == []
    finally:
        await admin.close()

    as_admin = connect(guarded.delivery_target, guarded.keys.credential("admin", "delivery"))
    lanes = await delivery_pb2_grpc.DeliveryServiceStub(as_admin).ListLanes(
        delivery_pb2.ListLanesRequest()
    )
    assert {lane.queue for lane in lanes.lanes} == set(guarded.delivery_settings.lanes)


async def test_a_seeding_tool_imports_and_reads_a_customer_as_admin(
    guarded: Guarded, connect
) -> None:
    """Seeding tools (make dev, the e2e tests, the benchmarks) act as the operator:
    ImportCustomer through the operations API with admin's credential."""
    await add_bots(guarded.routing.sessions)
    async with guarded.routing.sessions() as session, session.begin():
        session.add(StaffGroup(id=-1001, role=GroupRole.CS, title="CS", bot_id=CS_BOT))
    seeding = connect(guarded.routing_target, guarded.keys.credential("admin", "routing"))
    operations = operations_pb2_grpc.OperationsServiceStub(seeding)
    made = await operations.ImportCustomer(
        operations_pb2.ImportCustomerRequest(
            telegram_user_id=5001,
            display_name="Ann Client",
            topics=[operations_pb2.ExistingTopic(chat_id=-1001, message_thread_id=7)],
            actor=operations_pb2.Actor(kind="system", id="seeding"),
        )
    )
    found = await operations.GetCustomer(operations_pb2.GetCustomerRequest(telegram_user_id=5001))
    assert (found.id, found.display_name) == (made.id, "Ann Client")
