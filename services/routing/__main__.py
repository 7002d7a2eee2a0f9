"""python -m services.routing — routing's gRPC API and the outbox relay.

On SIGTERM: readiness NOT_SERVING; the relay stops handing out jobs and the local
dispatcher's pushes in flight finish (gRPC still answers, for delivery to report them),
what was not pushed goes back to the outbox; gRPC refuses new calls and finishes those
in flight; the database closes; exit 0. All within `shutdown_grace_seconds`.
"""

from __future__ import annotations

import asyncio
import logging

from servicekit.cli import read_settings
from servicekit.grpc_server import run_until_signalled
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.settings import settings_for_log
from services.routing.db.schema import SchemaOutdated
from services.routing.settings import RoutingSettings
from services.routing.wiring import build

log = logging.getLogger("services.routing")


async def _main() -> None:
    settings = read_settings(RoutingSettings, name="routing")
    configure_logging("routing", settings.log_level)
    log.info("starting", extra={"settings": settings_for_log(settings)})
    routing = build(settings)
    try:
        await routing.start()
    except SchemaOutdated as error:
        # What to do, in one line: the operator runs the migration Job, not a debugger.
        log.error(str(error))
        await routing.engine.dispose()
        raise SystemExit(1) from None
    assert routing.server is not None
    log.info("serving", extra={"grpc_port": routing.server.port})
    metrics = serve_metrics(routing.metrics.registry, settings)
    await run_until_signalled(
        routing.server,
        grace=settings.shutdown_grace_seconds,
        drains=[routing.drain],
        cleanups=[routing.close, *([metrics.stop] if metrics else [])],
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
