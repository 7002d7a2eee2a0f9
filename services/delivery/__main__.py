"""python -m services.delivery — the push endpoint for the lanes, and DeliveryService.

On SIGTERM: readiness NOT_SERVING (gRPC and /readyz); new pushes are answered 503 with
Retry-After, unclaimed, while the pushes in flight finish their send and report it to
routing; then the HTTP and gRPC servers stop and the bots' sessions close; exit 0. All
within `shutdown_grace_seconds`.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from servicekit.grpc_server import run_until_signalled, start_server
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.settings import settings_for_log
from switchboard.delivery.v1 import delivery_pb2, delivery_pb2_grpc

from .grpc_api import DeliveryServicer
from .settings import DeliverySettings
from .wiring import build

log = logging.getLogger("services.delivery")
SERVICE_NAME = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name


async def _main() -> None:
    settings = DeliverySettings()
    configure_logging("delivery", settings.log_level)
    log.info("starting", extra={"settings": settings_for_log(settings)})
    delivery = build(settings)
    runner = web.AppRunner(
        delivery.app, access_log=None, shutdown_timeout=settings.shutdown_grace_seconds
    )
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    servicer = DeliveryServicer(lanes=settings.lanes, bots=delivery.bots)
    server = await start_server(
        host=settings.grpc_host,
        port=settings.grpc_port,
        register=lambda s: delivery_pb2_grpc.add_DeliveryServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
        readiness=delivery.readiness,
    )
    log.info("serving", extra={"http_port": runner.addresses[0][1], "grpc_port": server.port})
    metrics = serve_metrics(delivery.metrics.registry, settings)
    await run_until_signalled(
        server,
        grace=settings.shutdown_grace_seconds,
        drains=[delivery.drain],
        cleanups=[runner.cleanup, delivery.close, *([metrics.stop] if metrics else [])],
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
