"""Wiring: `build(settings)` answers the aiohttp application of the ingress service.

Nothing is created at import time; the gRPC channel, the batcher and the pollers are
created when the application starts (they belong to its event loop) and closed, in
reverse order, when it is cleaned up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import grpc
from aiohttp import web

from servicekit.internal_auth import credential
from servicekit.readiness import DependencyCheck, Readiness, add_http_routes
from servicekit.supervisor import Supervisor

from .batcher import Batcher
from .errors import RoutingUnavailable
from .metrics import IngressMetrics
from .polling import Poller
from .routing_link import RoutingLink
from .settings import IngressSettings
from .webhook import WebhookEndpoint
from .webhook_info import WebhookInfoWatcher

METRICS = web.AppKey("metrics", IngressMetrics)
ROUTING = web.AppKey("routing", RoutingLink)
READINESS = web.AppKey("readiness", Readiness)


class Ingress:
    """What the routes share; `batcher` exists while the application runs."""

    def __init__(self, settings: IngressSettings, link: RoutingLink, metrics: IngressMetrics):
        self.settings = settings
        self.link = link
        self.metrics = metrics
        self.batcher: Batcher | None = None

    def current_batcher(self) -> Batcher:
        if self.batcher is None:
            raise RoutingUnavailable("ingress is not running", reason="not_running")
        return self.batcher


def build(settings: IngressSettings, *, routing: grpc.aio.Channel | None = None) -> web.Application:
    """Answer the ingress application; `routing` is a channel to use instead of one
    opened to `settings.routing_target` (the caller keeps ownership of it)."""
    bots = settings.served_bots()
    metrics = IngressMetrics(bots)
    token = credential(settings, caller="ingress", audience="routing")
    link = RoutingLink(settings.routing_target, existing=routing, credential=token)
    ingress = Ingress(settings, link, metrics)
    # +1: aiohttp refuses a body of exactly client_max_size bytes.
    app = web.Application(client_max_size=settings.max_body_bytes + 1)
    app[METRICS] = metrics
    app[ROUTING] = ingress.link
    app.cleanup_ctx.append(_routing_context(ingress))
    if settings.mode == "webhook":
        for role, bot in bots.items():
            endpoint = WebhookEndpoint(
                bot,
                batcher=ingress.current_batcher,
                metrics=metrics.roles[role],
                max_body_bytes=settings.max_body_bytes,
                retry_after_seconds=settings.unavailable_retry_after_seconds,
            )
            # One static route per served role: an unknown role is aiohttp's 404.
            app.router.add_post(f"/webhook/{role}", endpoint.handle)
        if settings.metrics_port is not None and settings.webhook_info_interval_seconds > 0:
            app.cleanup_ctx.append(_webhook_info_context(ingress))
    else:
        app.cleanup_ctx.append(_polling_context(ingress))
    # Ready while routing answers: without it no update can be recorded, so none acked.
    app[READINESS] = Readiness(DependencyCheck("routing", settings.routing_target))
    add_http_routes(app, app[READINESS])
    return app


def _routing_context(ingress: Ingress) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(_app: web.Application) -> AsyncIterator[None]:
        await ingress.link.open()
        assert ingress.link.stub is not None
        settings = ingress.settings
        ingress.batcher = Batcher(
            ingress.link.stub,
            window=settings.batch_window_ms / 1000,
            max_items=settings.batch_max,
            deadline=settings.routing_deadline_seconds,
            max_in_flight=settings.batch_max_in_flight,
            on_batch=ingress.metrics.batch_size.observe,
        )
        try:
            yield
        finally:
            # Requests have drained by now; what is still gathering goes out, then the
            # channel closes under no one.
            await ingress.batcher.close()
            await ingress.link.close()

    return context


def _polling_context(ingress: Ingress) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(_app: web.Application) -> AsyncIterator[None]:
        settings = ingress.settings
        session = aiohttp.ClientSession()
        pollers = [
            Poller(
                bot,
                session=session,
                base_url=settings.bot_api_base,
                batcher=ingress.current_batcher(),
                poll_timeout=settings.poll_timeout_seconds,
                limit=min(settings.batch_max, 100),
                metrics=ingress.metrics.roles[role],
            )
            for role, bot in settings.served_bots().items()
        ]
        for poller in pollers:
            poller.start()
        try:
            yield
        finally:
            try:
                for poller in pollers:
                    await poller.stop(timeout=settings.shutdown_grace_seconds)
            finally:
                await session.close()

    return context


def _webhook_info_context(ingress: Ingress) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(_app: web.Application) -> AsyncIterator[None]:
        settings = ingress.settings
        session = aiohttp.ClientSession()
        watcher = WebhookInfoWatcher(
            settings.served_bots(),
            session=session,
            base_url=settings.bot_api_base,
            interval=settings.webhook_info_interval_seconds,
            metrics=ingress.metrics,
        )
        # Started again if it ever ends (logged, and in the loop metrics); the gauges
        # are for operators, so a watcher down never makes ingress refuse webhooks.
        loops = Supervisor(ingress.metrics.loops)
        loops.start("webhook-info", watcher.run)
        try:
            yield
        finally:
            await loops.stop()
            await session.close()

    return context
