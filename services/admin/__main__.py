"""python -m services.admin — the operations API over REST and gRPC.

On SIGTERM: readiness NOT_SERVING (gRPC and /readyz); REST calls in flight finish and
the HTTP server stops; gRPC refuses new calls and finishes those in flight; the channel
to routing closes; exit 0. All within `shutdown_grace_seconds`.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from servicekit.cli import read_settings
from servicekit.grpc_server import run_until_signalled, start_server
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.settings import settings_for_log
from switchboard.admin.v1 import admin_pb2, admin_pb2_grpc

from .settings import AdminSettings
from .wiring import build

log = logging.getLogger("services.admin")
SERVICE_NAME = admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name


async def _main() -> None:
    settings = read_settings(AdminSettings, name="admin")
    configure_logging("admin", settings.log_level)
    log.info("starting", extra={"settings": settings_for_log(settings)})
    admin = build(settings)
    runner = admin.runner(shutdown_timeout=settings.shutdown_grace_seconds)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    servicer = admin.servicer
    server = await start_server(
        host=settings.grpc_host,
        port=settings.grpc_port,
        register=lambda s: admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
        reflection=settings.grpc_reflection,
        readiness=admin.readiness,
    )
    log.info("serving", extra={"http_port": runner.addresses[0][1], "grpc_port": server.port})
    metrics = serve_metrics(admin.metrics.registry, settings)
    await run_until_signalled(
        server,
        grace=settings.shutdown_grace_seconds,
        # REST calls in flight finish first; then gRPC's; then the channel to routing.
        drains=[runner.cleanup],
        cleanups=[admin.close, *([metrics.stop] if metrics else [])],
    )


def main() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main())
    else:
        uvloop.run(_main())


if __name__ == "__main__":
    main()
