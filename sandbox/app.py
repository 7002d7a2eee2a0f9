"""Wiring: one Sandbox (world, clock, faults, call log) served by one aiohttp app."""

from __future__ import annotations

import logging

from aiohttp import web

from . import gcpolicy
from .botapi import methods  # noqa: F401  (registers the Bot API methods)
from .botapi.server import handle_api, handle_file, handle_unknown_path
from .calls import CallLog
from .clock import Clock
from .driver.routes import errors_as_json, routes
from .faults import FaultBook
from .keys import SANDBOX
from .refusals import Refusals
from .settings import Settings
from .world.state import World

log = logging.getLogger("sandbox")
MAX_REQUEST_BYTES = 60 * 1024 * 1024  # Telegram takes uploads up to 50 MB


class Sandbox:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = Clock()
        self.world = World(self.clock, self.settings)
        self.faults = FaultBook()
        self.calls = CallLog(self.settings.call_log_size)
        self.refusals = Refusals()

    async def reset(self) -> None:
        """Forget everything: people, chats, updates, faults, calls, 429s, clock, settings."""
        await self.close()
        self.settings = Settings()
        self.clock.reset()
        self.world = World(self.clock, self.settings)
        self.faults.clear()
        self.calls = CallLog(self.settings.call_log_size)
        self.refusals.clear()
        gcpolicy.thaw()

    async def close(self) -> None:
        for box in self.world.boxes.values():
            if box.deliverer is not None:
                await box.deliverer.stop()
                box.deliverer = None


def create_app(sandbox: Sandbox | None = None) -> web.Application:
    sandbox = sandbox or Sandbox()
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SANDBOX] = sandbox
    driver = web.Application(middlewares=[errors_as_json])
    driver[SANDBOX] = sandbox
    driver.add_routes(routes)
    app.add_subapp("/_sandbox", driver)
    app.router.add_route("*", "/bot{token}/{method}", handle_api)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
    app.router.add_route("*", "/{tail:.*}", handle_unknown_path)

    async def shutdown(_: web.Application) -> None:
        await sandbox.close()

    app.on_shutdown.append(shutdown)
    return app
