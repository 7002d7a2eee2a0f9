"""Admin's REST and gRPC APIs in front of a real routing gRPC server over a real database
(SQLite and MariaDB), as in production: admin knows only routing's OperationsService."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from servicekit.grpc_client import channel
from servicekit.grpc_server import start_server
from services.admin.settings import AdminSettings
from services.admin.wiring import build
from services.routing.api.operations_servicer import OperationsServicer
from services.routing.domain.onboarding import Texts
from services.routing.domain.plan import Style
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, onboarding_steps
from switchboard.admin.v1 import admin_pb2_grpc
from switchboard.operations.v1 import operations_pb2_grpc
from tests.integration.admin.stack import Admin
from tests.integration.routing.databases import Sessions


async def _nowhere(_handout: object) -> None:
    return None


@pytest.fixture
async def admin(db_sessions: Sessions) -> AsyncIterator[Admin]:
    relay = Relay(db_sessions, _nowhere, due_work=due_work())

    def register(server: Any) -> None:
        operations_pb2_grpc.add_OperationsServiceServicer_to_server(
            OperationsServicer(
                db_sessions,
                relay,
                onboarding=onboarding_steps(),
                texts=Texts(),
                style=Style(),
                recording=conversation_options(),
            ),
            server,
        )

    routing = await start_server(
        host="127.0.0.1",
        port=0,
        register=register,
        service_names=["switchboard.operations.v1.OperationsService"],
    )
    link = channel(f"127.0.0.1:{routing.port}")
    ops = operations_pb2_grpc.OperationsServiceStub(link)
    built = build(AdminSettings(), ops=ops)
    runner = built.runner(shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    servicer = built.servicer
    grpc_server = await start_server(
        host="127.0.0.1",
        port=0,
        register=lambda s: admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, s),
        service_names=["switchboard.admin.v1.AdminService"],
    )
    admin_link = channel(f"127.0.0.1:{grpc_server.port}")
    try:
        async with aiohttp.ClientSession() as http:
            yield Admin(
                url=f"http://127.0.0.1:{runner.addresses[0][1]}",
                grpc=admin_pb2_grpc.AdminServiceStub(admin_link),
                sessions=db_sessions,
                http=http,
                routing=routing,
                metrics=built.metrics,
            )
    finally:
        await admin_link.close()
        await grpc_server.stop(0)
        await runner.cleanup()
        await link.close()
        await routing.stop(0)
