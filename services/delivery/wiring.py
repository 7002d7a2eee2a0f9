"""build(): the one place delivery's parts are created and connected."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiohttp import web

from servicekit.grpc_client import channel
from servicekit.grpc_server import RunningServer, start_server
from servicekit.internal_auth import credential, server_interceptors
from servicekit.readiness import DependencyCheck, Readiness, add_http_routes
from switchboard.delivery.v1 import delivery_pb2, delivery_pb2_grpc
from switchboard.routing.v1 import routing_pb2_grpc

from .auth.google_oidc import CertCache, GoogleOidcVerifier, fetch_google_certs
from .auth.verifiers import LocalDispatcherVerifier, PushVerifier
from .callers import AUDIENCE, POLICY
from .delivery_servicer import DeliveryServicer
from .metrics import DeliveryMetrics
from .pacing import Limits, Pacer
from .push import Worker, routes
from .settings import DeliverySettings
from .telegram_metrics import TelegramMetrics
from .telegram_send import Senders

MAX_PUSH_BYTES = 2 * 1024 * 1024  # a job is small; Cloud Tasks caps a task at 1 MiB
SERVICE_NAME = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name


@dataclass
class Delivery:
    app: web.Application
    worker: Worker
    bots: dict[str, Bot]
    metrics: DeliveryMetrics = field(default_factory=DeliveryMetrics)
    # Further bots of the staff roles (groups' pools), each with its role.
    pool: list[tuple[str, Bot]] = field(default_factory=list)
    # Ready while routing answers: a push can be neither claimed nor reported without it.
    readiness: Readiness = field(default_factory=Readiness)

    async def drain(self) -> None:
        """At SIGTERM: turn new pushes away (503), wait for those in flight to report."""
        await self.worker.gate.close()

    async def close(self) -> None:
        for bot in [*self.bots.values(), *(bot for _, bot in self.pool)]:
            await bot.session.close()


def make_bot(token: str, *, base: str, timeout: float) -> Bot:
    api = (
        PRODUCTION
        if base.rstrip("/") == "https://api.telegram.org"
        else (TelegramAPIServer.from_base(base.rstrip("/")))
    )
    return Bot(token, session=AiohttpSession(api=api, timeout=timeout))


def _verifier(settings: DeliverySettings) -> PushVerifier:
    if settings.push_auth == "local":
        secret = settings.push_secret.get_secret_value().encode()
        if not secret:
            raise ValueError("SWITCHBOARD_DELIVERY_PUSH_SECRET is required for local pushes")
        return LocalDispatcherVerifier(secret)
    if not settings.push_audience or not settings.push_service_account:
        raise ValueError("google push auth needs PUSH_AUDIENCE and PUSH_SERVICE_ACCOUNT")
    return GoogleOidcVerifier(
        audience=settings.push_audience,
        service_account=settings.push_service_account,
        certs=CertCache(fetch_google_certs),
    )


def build(
    settings: DeliverySettings,
    *,
    verifier: PushVerifier | None = None,
    routing: routing_pb2_grpc.RoutingServiceStub | None = None,
) -> Delivery:
    bots = {
        role: make_bot(
            token.get_secret_value(),
            base=settings.bot_api_base,
            timeout=settings.telegram_timeout_seconds,
        )
        for role, token in settings.tokens().items()
    }
    pool = [
        (
            role,
            make_bot(
                token.get_secret_value(),
                base=settings.bot_api_base,
                timeout=settings.telegram_timeout_seconds,
            ),
        )
        for role, token in settings.pool()
    ]
    every = [*bots.items(), *pool]
    metrics = DeliveryMetrics({bot.id: role for role, bot in every})
    for role, bot in every:
        bot.session.middleware(TelegramMetrics(metrics, role))
    limits = Limits(
        chat_per_sec=settings.chat_per_sec,
        chat_burst=settings.chat_burst,
        group_per_min=settings.group_per_min,
        group_burst=settings.group_burst,
        bot_per_sec=settings.bot_per_sec,
        bot_burst=settings.bot_burst,
    )
    worker = Worker(
        routing=routing or routing_stub(settings),
        senders=Senders({bot.id: bot for _, bot in every}),
        verifier=verifier or _verifier(settings),
        pacer=Pacer(limits, observer=metrics),
        max_pace_wait=settings.max_pace_wait_seconds,
        metrics=metrics,
        check_unsure=settings.check_unsure_sends,
    )
    app = web.Application(client_max_size=MAX_PUSH_BYTES)
    app.add_routes(routes(worker))
    readiness = Readiness(DependencyCheck("routing", settings.routing_target))
    add_http_routes(app, readiness)
    return Delivery(app, worker, bots, metrics, pool, readiness)


def routing_stub(settings: DeliverySettings) -> routing_pb2_grpc.RoutingServiceStub:
    """A stub to routing whose calls carry delivery's service token (in token mode)."""
    token = credential(settings, caller="delivery", audience="routing")
    return routing_pb2_grpc.RoutingServiceStub(channel(settings.routing_target, credential=token))


async def start_grpc(
    settings: DeliverySettings, delivery: Delivery, *, readiness: Readiness | None = None
) -> RunningServer:
    """Serve DeliveryService on `grpc_host:grpc_port`, only to admin in token mode."""
    servicer = DeliveryServicer(lanes=settings.lanes, bots=delivery.bots)
    return await start_server(
        host=settings.grpc_host,
        port=settings.grpc_port,
        register=lambda s: delivery_pb2_grpc.add_DeliveryServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
        interceptors=server_interceptors(settings, audience=AUDIENCE, policy=POLICY),
        readiness=readiness,
        reflection=settings.grpc_reflection,
    )
