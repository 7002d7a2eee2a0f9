"""python -m services.ingress — settings from SWITCHBOARD_INGRESS_* variables.

Serves the webhooks (or polls, in polling mode) until SIGTERM/SIGINT, then: readiness
NOT_SERVING (gRPC and /readyz), stop accepting, let in-flight requests finish (each is
answered 200 only once routing recorded it), send what is still gathering, close the
channel to routing, stop gRPC; exit 0. All within `shutdown_grace_seconds`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from servicekit.grpc_server import Cleanup, run_until_signalled, start_server
from servicekit.logs import configure_logging
from servicekit.metrics import start_metrics_server
from servicekit.settings import settings_for_log

from .app import METRICS, READINESS, build
from .settings import IngressSettings

log = logging.getLogger("services.ingress")


async def serve(settings: IngressSettings) -> None:
    """Run ingress until signalled, then shut down in order."""
    app = build(settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=settings.shutdown_grace_seconds)
    await runner.setup()
    cleanups: list[Cleanup] = [runner.cleanup]
    try:
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        log.info(
            "http listening",
            extra={"http_port": runner.addresses[0][1], "mode": settings.mode},
        )
        if settings.metrics_port is not None:
            # Beside gRPC, on the internal interface: the webhook port faces Telegram.
            metrics = start_metrics_server(
                app[METRICS].registry, host=settings.grpc_host, port=settings.metrics_port
            )
            cleanups.append(metrics.stop)
            log.info("metrics listening", extra={"metrics_port": metrics.port})
        # gRPC here is only the standard health service, for probes like every service's.
        health = await start_server(
            host=settings.grpc_host,
            port=settings.grpc_port,
            register=lambda _server: None,
            service_names=[],
            reflection=settings.grpc_reflection,
            readiness=app[READINESS],
        )
    except BaseException:
        for cleanup in reversed(cleanups):
            result = cleanup()
            if inspect.isawaitable(result):
                await result
        raise
    # The HTTP side is the work: it drains within the grace; what follows only closes.
    await run_until_signalled(
        health,
        grace=settings.shutdown_grace_seconds,
        drains=[runner.cleanup],
        cleanups=cleanups[1:],
    )


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main() -> int:
    try:
        settings = IngressSettings()
    except ValidationError as error:
        # Inputs are hidden in these errors (settings hide them), so no secret leaks.
        print(f"ingress: invalid settings\n{error}", file=sys.stderr)
        return 2
    configure_logging("ingress", settings.log_level)
    log.info("starting", extra={"settings": settings_for_log(settings)})
    _event_loop_runner()(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
