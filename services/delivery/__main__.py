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

from servicekit.cli import read_settings
from servicekit.grpc_server import run_until_signalled
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.settings import settings_for_log

from .settings import DeliverySettings
from .wiring import build, start_grpc

log = logging.getLogger("services.delivery")


async def _main() -> None:
    settings = read_settings(DeliverySettings, name="delivery")
    configure_logging("delivery", settings.log_level)
    log.info("starting", extra={"settings": settings_for_log(settings)})
    delivery = build(settings)
    # The drain has already waited (within the grace) for the pushes in flight; what is
    # left when the runner stops is cut at once rather than given a second grace, so the
    # whole stop stays inside terminationGracePeriodSeconds.
    runner = web.AppRunner(delivery.app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    server = await start_grpc(settings, delivery, readiness=delivery.readiness)
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
