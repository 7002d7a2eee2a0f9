"""routing's settings, read from `SWITCHBOARD_ROUTING_*` variables in `__main__` only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import InternalServerSettings
from servicekit.lanes import LaneSettings, default_lanes
from servicekit.settings import ServiceSettings
from services.routing.domain.floods import NOTICE as FLOOD_NOTICE
from services.routing.domain.onboarding import Texts

_TEXTS = Texts()


class RoutingSettings(ServiceSettings, InternalServerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ROUTING_", hide_input_in_errors=True)

    grpc_port: int = 50052
    """The gRPC port: RoutingService and OperationsService, and the health service."""
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/switchboard.db")
    """The database: sqlite+aiosqlite:///path (embedded) or
    mysql+aiomysql://user:password@host/db (production).
    """
    migrate_on_start: bool = False
    """Upgrade the schema at start: a convenience for the embedded mode and development
    only. In production the migration Job (`python -m services.routing.api.migrations_cli upgrade`)
    runs first, and routing refuses to start on a schema older than it needs."""

    dispatcher: Literal["local", "cloud_tasks"] = "local"
    """How outbox jobs reach delivery: `local` (built-in dispatcher, pushes signed with
    push_secret) or `cloud_tasks` (one Google Cloud Tasks queue per lane).
    """
    delivery_url: str = "http://127.0.0.1:8082"
    """The base URL of delivery's push endpoint (jobs go to <delivery_url>/push/<lane>),
    for the local dispatcher and Cloud Tasks alike.
    """
    push_secret: SecretStr = SecretStr("")
    """Shared with delivery: the local dispatcher signs each push with it (bound to the
    lane and the job). Required with the local dispatcher.
    """
    lanes: dict[str, LaneSettings] = Field(default_factory=default_lanes)
    """Each lane's dispatch rate, concurrency and push-retry policy (JSON; see Lanes below)."""

    cloud_tasks_project: str = ""
    """The Google Cloud project of the Cloud Tasks queues."""
    cloud_tasks_location: str = ""
    """The region of the Cloud Tasks queues (e.g. europe-west1)."""
    cloud_tasks_service_account: str = ""
    """The service account whose OIDC token Cloud Tasks attaches to each push (delivery
    checks it).
    """
    cloud_tasks_audience: str = ""
    """The OIDC audience on every task; delivery checks this one value
    (SWITCHBOARD_DELIVERY_PUSH_AUDIENCE). Empty: the delivery URL.
    """
    cloud_tasks_emulator: str = ""
    """host:port of a Cloud Tasks emulator (tests); empty uses Google's API."""

    claim_lease_seconds: float = Field(default=60.0, gt=0)
    """How long a delivery worker's claim on a job holds. Longer than a worker can take
    (pacing wait + Telegram timeout + reporting), since a second push may send once it
    runs out; a worker that dies mid-send holds its destination up for this long.
    """

    relay_batch: int = Field(default=200, ge=1)
    """The most jobs the outbox relay hands to the dispatcher in one pass."""
    relay_idle_seconds: float = Field(default=1.0, gt=0)
    """How often the relay looks for due jobs when nothing wakes it."""
    relay_unclaimed_seconds: float = Field(default=60.0, gt=0)
    """A job handed out and never claimed by a delivery worker in this long goes back to
    the outbox to be handed out again: its push was lost (the process that held it died,
    or the hand-out's commit succeeded while its answer was lost to a database outage).
    A late push of the old attempt is refused at its claim, so nothing goes twice.
    """
    relay_min_interval_ms: float = Field(default=10.0, ge=0, le=1000)
    """Passes of the relay start at least this far apart; wakes in between share one."""
    pacing: bool = True
    """Give each send its slot under Telegram's limits here, for the whole deployment
    (every routing and delivery process shares the schedules in the database). Off,
    only each delivery process's own pacer holds the limits, per process.
    """
    chat_per_sec: float = Field(default=1.0, gt=0)
    """Sends per second into one chat by one bot (Telegram allows about 1)."""
    chat_burst: int = Field(default=3, ge=1)
    """Sends into one chat that may go at once before the rate applies."""
    group_per_min: float = Field(default=20.0, gt=0)
    """Sends per minute into one group by one bot (Telegram allows about 20), shared
    by its topics: they take turns, system lines first.
    """
    group_burst: int = Field(default=5, ge=1)
    """Sends into one group that may go at once before the rate applies."""
    bot_per_sec: float = Field(default=30.0, gt=0)
    """Sends per second by one bot (Telegram allows about 30)."""
    bot_burst: int = Field(default=30, ge=1)
    """Sends by one bot that may go at once before the rate applies."""
    pace_ahead_seconds: float = Field(default=1.0, ge=0, le=60)
    """How far ahead a send slot may be given; a send whose slot is further off waits
    in the outbox and competes again when it could go (so a later, fairer choice can
    take the slot).
    """
    pace_headroom: float = Field(default=0.1, ge=0, le=1)
    """Routing paces this fraction under the limits above (0.1: 10 % slower), because
    each send leaves a little after its slot, by more or less each time; without it,
    two sends whose delays differ can reach Telegram closer than its limit allows.
    """
    group_system_reserve: int = Field(default=1, ge=0)
    """Sends of a group's burst (group_burst) kept for system lines — CS prompts,
    welcomes, notices: conversation lines leave them free, so a system line goes at
    once even while a flood keeps the group busy. 0: none kept.
    """
    outbox_metrics_interval_seconds: float = Field(default=15.0, ge=0)
    """How often the outbox's depth and oldest unfinished job per lane are counted for
    /metrics (one grouped query per replica); 0 turns the count off."""

    attribution_template: str = "{name} · {role}\n"
    """How a staff line reaches the client: {name} and {role} are the staff registry's
    display name and role label. The first line is shown bold.
    """
    note_template: str = "📝 {name} · {role} · note for staff\n"
    """The head of a staff note (/note …), shown in the other staff topics only, never
    to the client.
    """
    note_command: str = Field(default="note", pattern=r"^[a-z0-9_]{1,32}$")
    """The staff command that marks a line as a note for staff (without the slash)."""
    delete_command: str = Field(default="delete", pattern=r"^[a-z0-9_]{1,32}$")
    """The staff command that, as a reply, deletes a line and its copies (without the
    slash).
    """
    album_window_ms: float = Field(default=1000.0, ge=50, le=10000)
    """Album items arriving within this long of each other go on as one album."""
    flood_lines_per_minute: int = Field(default=20, ge=0)
    """A client who writes more lines than this within a minute floods: every line is
    still kept and carried in order (their topics take turns with everyone else's, so
    they go at the group's pace), and they are told once, politely, that it may take a
    little while (flood_notice_text). 0: nobody is told.
    """
    flood_quiet_seconds: float = Field(default=60.0, gt=0)
    """A flood ends when the client has written nothing for this long; only a new flood
    after that is told again.
    """
    flood_notice_text: str = Field(default=FLOOD_NOTICE, min_length=1, max_length=4096)
    """What a flooding client is told, once per flood, by the client bot."""

    onboarding_tries_per_hour: int = Field(default=5, ge=1, le=100)
    """Email tries a client has in a rolling hour before being asked to wait (a mistyped
    address spends none).
    """
    directory: Literal["table", "http"] = "table"
    """Where a client's account email is looked up: `table` (the directory imported
    through the operations API) or `http` (a company's directory service, see
    services/routing/onboarding/directory.py).
    """
    directory_url: str = ""
    """The directory service's URL (http or https), required when directory is `http`."""
    directory_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    """How long one directory lookup may take before it is retried with backoff."""
    directory_auth_header: SecretStr = SecretStr("")
    """"Header-Name: value" sent to the directory service, e.g. "Authorization: Bearer
    …".
    """
    welcome_client_template: str = _TEXTS.welcome_client
    """Said to the client when their topics are ready: {name}, {email}, {team},
    {treatment}, {confirmed_by}.
    """
    welcome_staff_template: str = _TEXTS.welcome_staff
    """Said in each new staff topic, with the same fields as the client's welcome."""

    @model_validator(mode="after")
    def _directory_has_a_url(self) -> RoutingSettings:
        if self.directory == "http" and not self.directory_url.startswith(("http://", "https://")):
            raise ValueError("SWITCHBOARD_ROUTING_DIRECTORY_URL (http or https) is required")
        return self
