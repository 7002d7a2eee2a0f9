"""build(): the one place admin's parts are created and connected."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import grpc
from aiohttp import web

from servicekit.grpc_client import channel
from servicekit.internal_auth import credential
from servicekit.readiness import DependencyCheck, Readiness
from switchboard.operations.v1 import operations_pb2_grpc

from .admin_servicer import AdminServicer
from .http_api import AccessLogger, build_app
from .metrics import AdminMetrics
from .settings import AdminSettings


@dataclass
class Admin:
    """The REST application and the gRPC servicer, both over one stub to routing."""

    app: web.Application
    servicer: AdminServicer
    ops: operations_pb2_grpc.OperationsServiceStub
    metrics: AdminMetrics = field(default_factory=AdminMetrics)
    # Ready while routing answers: every operation is a call to it.
    readiness: Readiness = field(default_factory=Readiness)
    _link: grpc.aio.Channel | None = None

    def runner(self, *, shutdown_timeout: float) -> web.AppRunner:
        """An AppRunner for the REST app that logs each request as admin's access line."""
        return web.AppRunner(
            self.app,
            access_log_class=AccessLogger,
            access_log=logging.getLogger("services.admin.access"),
            shutdown_timeout=shutdown_timeout,
        )

    async def close(self) -> None:
        """Close the channel to routing if build() opened it."""
        if self._link is not None:
            await self._link.close()


def build(
    settings: AdminSettings, *, ops: operations_pb2_grpc.OperationsServiceStub | None = None
) -> Admin:
    """Everything admin needs, created but not started; `ops` replaces the stub that
    would be opened to `settings.routing_target` (the caller then owns its channel)."""
    link = None
    if ops is None:
        token = credential(settings, caller="admin", audience="routing")
        link = channel(settings.routing_target, credential=token)
        ops = operations_pb2_grpc.OperationsServiceStub(link)
    metrics = AdminMetrics()
    readiness = Readiness(DependencyCheck("routing", settings.routing_target))
    return Admin(
        app=build_app(ops, metrics=metrics, readiness=readiness),
        readiness=readiness,
        servicer=AdminServicer(ops, metrics=metrics),
        ops=ops,
        metrics=metrics,
        _link=link,
    )
