"""build(): the one place routing's parts are created and connected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from servicekit.grpc_interceptors import TranslatingInterceptor
from servicekit.grpc_server import RunningServer, start_server
from servicekit.internal_auth import server_interceptors
from servicekit.readiness import Readiness
from servicekit.supervisor import Supervisor
from services.routing.api.database_errors import unavailable
from services.routing.api.operations_servicer import OperationsServicer
from services.routing.api.routing_servicer import RoutingServicer
from services.routing.callers import AUDIENCE, POLICY
from services.routing.conversation import (
    albums,
    blocked_clients,
    deletes,
    edits,
    outcome_effects,
    own_topics,
    staff_commands,
    topics_gone,
    undelivered,
    waiting_reactions,
)
from services.routing.conversation.batch import Options
from services.routing.conversation.handlers import Event, Handlers, Kind, OnEvent
from services.routing.db.column_types import utcnow
from services.routing.db.engine import make_engine, session_factory
from services.routing.db.enums import BotRole
from services.routing.db.migrate import upgrade
from services.routing.db.schema import check_at_start
from services.routing.db.urls import sync_url
from services.routing.domain.floods import Floods
from services.routing.domain.onboarding import Texts
from services.routing.domain.pacing import Limits
from services.routing.domain.plan import Style
from services.routing.metrics import RoutingMetrics
from services.routing.onboarding import decisions, intake, presses, prompts, topic_setup
from services.routing.onboarding.directory import Directory, HttpDirectory, TableDirectory
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.onboarding.intake import Rules
from services.routing.operations import treatment
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.dispatchers.local import LocalDispatcher
from services.routing.outbox.gauges import OutboxGauges
from services.routing.outbox.jobs import Outgoing
from services.routing.outbox.outcomes import OutcomeHandlers
from services.routing.outbox.relay import Dispatch, DueWork, Relay
from services.routing.readiness import CHECK_TIMEOUT, DatabaseCheck
from services.routing.settings import RoutingSettings
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

# The background loops, by the names their metrics and readiness give.
RELAY, CHECKER, GAUGES = "outbox-relay", "email-checker", "outbox-gauges"
SERVICE_NAME = routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name
OPERATIONS_SERVICE_NAME = operations_pb2.DESCRIPTOR.services_by_name["OperationsService"].full_name


@dataclass
class Routing:
    settings: RoutingSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: Relay
    dispatcher: object
    checker: EmailChecker
    directory: Directory
    metrics: RoutingMetrics = field(default_factory=RoutingMetrics)
    server: RunningServer | None = None
    loops: Supervisor | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Serve; raises SchemaOutdated first when the database's schema is too old."""
        await check_at_start(self.engine)
        self.loops = loops = Supervisor(self.metrics.loops)
        self.relay.on_unparked = self.metrics.unparked.inc
        if hasattr(self.dispatcher, "start"):
            await self.dispatcher.start()
        texts = intake_rules(self.settings).texts
        servicer = RoutingServicer(
            self.sessions,
            self.relay,
            claim_lease=timedelta(seconds=self.settings.claim_lease_seconds),
            options=record_options(self.settings),
            outcomes=outcome_handlers(texts),
            checker=self.checker,
            metrics=self.metrics,
        )
        operations = OperationsServicer(
            self.sessions,
            self.relay,
            onboarding=onboarding_steps(),
            texts=texts,
            style=style(self.settings),
            recording=servicer.options,  # a quarantined update is replayed as recorded
            checker=self.checker,
        )

        def register(server: grpc.aio.Server) -> None:
            routing_pb2_grpc.add_RoutingServiceServicer_to_server(servicer, server)
            operations_pb2_grpc.add_OperationsServiceServicer_to_server(operations, server)

        self.server = await start_server(
            host=self.settings.grpc_host,
            port=self.settings.grpc_port,
            register=register,
            service_names=[SERVICE_NAME, OPERATIONS_SERVICE_NAME],
            interceptors=[
                *server_interceptors(self.settings, audience=AUDIENCE, policy=POLICY),
                # The database away or busy: UNAVAILABLE to every caller, never INTERNAL.
                TranslatingInterceptor(unavailable),
            ],
            reflection=self.settings.grpc_reflection,
            # Ready while the database answers and every background loop runs.
            readiness=Readiness(
                loops.with_check(DatabaseCheck(self.engine)), timeout=CHECK_TIMEOUT
            ),
        )
        # Each loop outlives the database's trouble by itself; the supervisor restarts
        # one that ends all the same, and says so in readiness and metrics.
        loops.start(RELAY, self.relay.run)
        loops.start(CHECKER, self.checker.run)
        interval = self.settings.outbox_metrics_interval_seconds
        if self.settings.metrics_port is not None and interval > 0:
            # Counted only where someone can scrape it: a query per interval per replica.
            gauges = OutboxGauges(self.sessions, self.metrics, interval=interval)
            loops.start(GAUGES, gauges.run)

    async def drain(self) -> None:
        """Stop handing out work and finish what is out (at SIGTERM, while gRPC still
        answers: delivery reports the pushes in flight to it). Jobs taken out but not
        pushed go back to the outbox, due at once, for the next relay to hand out."""
        self.relay.stopping = True
        if self.loops is not None:
            await self.loops.stop(CHECKER, RELAY)
        await self.relay.drain()
        if hasattr(self.dispatcher, "drain"):
            unpushed = await self.dispatcher.drain()
            await self.relay.give_back(unpushed, delay=timedelta(0))

    async def close(self) -> None:
        if self.loops is not None:
            await self.loops.stop()
        await self.directory.close()
        await self.relay.drain()
        if hasattr(self.dispatcher, "close"):
            await self.dispatcher.close()
        await self.engine.dispose()


def _dispatcher(settings: RoutingSettings) -> Dispatch:
    if settings.dispatcher == "local":
        secret = settings.push_secret.get_secret_value().encode()
        if not secret:
            raise ValueError("SWITCHBOARD_ROUTING_PUSH_SECRET is required for the local dispatcher")
        return LocalDispatcher(
            delivery_url=settings.delivery_url, secret=secret, lanes=settings.lanes
        )
    # Imported here: the embedded mode never loads the Cloud Tasks client.
    from services.routing.outbox.dispatchers.cloud_tasks import CloudTasksDispatcher, make_client

    return CloudTasksDispatcher(
        make_client(emulator=settings.cloud_tasks_emulator),
        project=settings.cloud_tasks_project,
        location=settings.cloud_tasks_location,
        delivery_url=settings.delivery_url,
        service_account=settings.cloud_tasks_service_account,
        # One audience for every lane: delivery verifies a single value.
        audience=settings.cloud_tasks_audience or settings.delivery_url,
    )


def style(settings: RoutingSettings) -> Style:
    return Style(
        attribution=settings.attribution_template,
        note=settings.note_template,
        note_command=settings.note_command,
        delete_command=settings.delete_command,
    )


def record_options(settings: RoutingSettings) -> Options:
    return conversation_options(
        style=style(settings),
        rules=intake_rules(settings),
        album_window=timedelta(milliseconds=settings.album_window_ms),
        floods=Floods(
            lines_per_minute=settings.flood_lines_per_minute,
            quiet=timedelta(seconds=settings.flood_quiet_seconds),
            notice=settings.flood_notice_text,
        ),
    )


def conversation_options(
    *,
    style: Style | None = None,
    rules: Rules | None = None,
    album_window: timedelta = albums.WINDOW,
    floods: Floods | None = None,
) -> Options:
    """How a batch is recorded: how lines are shown and gathered, and who handles what
    (routing's defaults for what is not given; nobody is told of a flood unless
    `floods` says when)."""
    style, rules = style or Style(), rules or Rules()
    return Options(
        handlers=conversation_handlers(style, rules),
        style=style,
        album_window=album_window,
        floods=floods or Floods(),
    )


def conversation_handlers(style: Style, rules: Rules) -> Handlers:
    """Which feature's handler acts on each kind of update, on each staff command and
    on a line from a client not in a conversation: registered here, so that features
    never import each other."""

    async def on_press(session: AsyncSession, event: Event) -> list[Outgoing]:
        return await presses.on_press(
            session,
            event.update.raw,
            bot_id=event.bot_id,
            correlation=event.correlation_id,
            now=utcnow(),
            texts=rules.texts,
        )

    if style.delete_command == staff_commands.TREATMENT:
        raise ValueError(f"the delete command may not be /{staff_commands.TREATMENT}")
    set_treatment = partial(treatment.set_treatment, onboarding=onboarding_steps())
    return Handlers(
        events={
            Kind.EDIT: OnEvent(partial(edits.on_edit, style=style)),
            Kind.REACTION: OnEvent(waiting_reactions.on_reaction),
            Kind.MEMBERSHIP: OnEvent(blocked_clients.on_membership, frozenset({BotRole.CLIENT})),
            Kind.UNBLOCKED: OnEvent(blocked_clients.on_wrote_again),
            Kind.PRESS: OnEvent(on_press, frozenset({BotRole.CS})),
            # A topic our bot made, announced by its service message: it settles a
            # creation whose answer was lost as that creation's report would have (the
            # same outcome handlers), or deletes a second topic made by a retry.
            Kind.TOPIC_CREATED: OnEvent(
                partial(own_topics.on_topic_created, outcomes=outcome_handlers(rules.texts)),
                frozenset({BotRole.CS, BotRole.CR, BotRole.TREATMENT}),
            ),
        },
        commands={
            style.delete_command: deletes.on_delete,
            staff_commands.TREATMENT: partial(
                staff_commands.on_treatment, set_treatment=set_treatment
            ),
        },
        newcomer=partial(intake.decide, rules=rules),
    )


def outcome_handlers(texts: Texts | None = None) -> OutcomeHandlers:
    """What an outcome of a kind of job does, beyond the job's own row: each feature's
    handlers in the outbox's one table (`texts`: onboarding's, the default when None)."""
    handlers = OutcomeHandlers()
    # conversation: deletes, a deleted topic recreated, a blocked client, failure notices,
    # a line that cannot reach a destination marked at its author's
    handlers.on_sent("delete_messages", outcome_effects.messages_deleted)
    replacement = topics_gone.replaces_a_topic
    handlers.on_sent("create_topic", topics_gone.replacement_created, applies=replacement)
    handlers.on_failed("create_topic", topics_gone.replacement_failed, applies=replacement)
    handlers.on_obstacle("topic_deleted", topics_gone.topic_deleted, job_waits=True)
    handlers.on_obstacle("client_blocked", outcome_effects.client_blocked)
    handlers.on_every_failure(outcome_effects.failure_notice)
    handlers.on_every_failure(undelivered.line_undelivered)
    # onboarding: a customer's topics set up
    topics = topic_setup.TopicOutcomes(texts or Texts())
    handlers.on_sent("create_topic", topics.sent, applies=topic_setup.for_a_customer)
    handlers.on_failed("create_topic", topics.failed, applies=topic_setup.for_a_customer)
    return handlers


@dataclass(frozen=True)
class DueAlbums:
    """The relay's due work for albums: one whose items stopped coming is released."""

    style: Style

    async def release_due(self, session: AsyncSession, *, now: datetime) -> Sequence[Head]:
        await albums.release_due(session, now=now, style=self.style)
        return []  # released albums are made ready: the pass takes them out

    async def next_due(self, session: AsyncSession) -> datetime | None:
        return await albums.next_due(session)


def due_work(style: Style | None = None) -> list[DueWork]:
    """What features hold until a time of their own, for the relay to release."""
    return [DueAlbums(style or Style()), waiting_reactions.DueReactions()]


def limits(settings: RoutingSettings) -> Limits:
    """Telegram's limits as routing paces sends under them."""
    return Limits(
        chat_per_sec=settings.chat_per_sec,
        chat_burst=settings.chat_burst,
        group_per_min=settings.group_per_min,
        group_burst=settings.group_burst,
        bot_per_sec=settings.bot_per_sec,
        bot_burst=settings.bot_burst,
        ahead_seconds=settings.pace_ahead_seconds,
        headroom=settings.pace_headroom,
        system_reserve=settings.group_system_reserve,
    )


def intake_rules(settings: RoutingSettings) -> Rules:
    texts = Texts(
        welcome_client=settings.welcome_client_template,
        welcome_staff=settings.welcome_staff_template,
    )
    return Rules(texts=texts, tries_per_hour=settings.onboarding_tries_per_hour)


def onboarding_steps() -> OnboardingSteps:
    """What operations do as onboarding does (see operations.onboarding_steps)."""
    return OnboardingSteps(
        open_assignment=intake.open_assignment,
        confirm=decisions.confirm,
        prompt=prompts.prompt,
        group_of=prompts.group_of,
        topic_job=topic_setup.create_job,
    )


def directory(settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession]) -> Directory:
    if settings.directory == "http":
        return HttpDirectory(
            settings.directory_url,
            timeout=settings.directory_timeout_seconds,
            auth_header=settings.directory_auth_header.get_secret_value(),
        )
    return TableDirectory(sessions)


def build(settings: RoutingSettings, *, dispatch: Dispatch | None = None) -> Routing:
    """Everything routing needs, created but not started (nothing runs at import)."""
    url = settings.database_url.get_secret_value()
    database = sync_url(url).database
    if sync_url(url).get_backend_name() == "sqlite" and database:
        # The embedded default keeps its file under var/; make the folder on first run.
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    if settings.migrate_on_start:
        upgrade(sync_url(url))
    engine = make_engine(url)
    sessions = session_factory(engine)
    dispatcher = dispatch or _dispatcher(settings)
    relay = Relay(
        sessions,
        dispatcher,
        batch=settings.relay_batch,
        idle_seconds=settings.relay_idle_seconds,
        unclaimed_after=timedelta(seconds=settings.relay_unclaimed_seconds),
        min_interval=settings.relay_min_interval_ms / 1000,
        due_work=due_work(style(settings)),
        limits=limits(settings) if settings.pacing else None,
    )
    lookups = directory(settings, sessions)
    checker = EmailChecker(sessions, lookups, relay, rules=intake_rules(settings))
    return Routing(settings, engine, sessions, relay, dispatcher, checker, lookups)
