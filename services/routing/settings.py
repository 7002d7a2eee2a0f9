"""routing's settings, read from `SWITCHBOARD_ROUTING_*` variables in `__main__` only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import InternalServerSettings
from servicekit.lanes import LaneSettings, default_lanes
from servicekit.settings import ServiceSettings
from services.routing.domain.onboarding import Texts

_TEXTS = Texts()


class RoutingSettings(ServiceSettings, InternalServerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ROUTING_", hide_input_in_errors=True)

    grpc_port: int = 50052
    # sqlite+aiosqlite:///path (embedded) or mysql+aiomysql://user:pw@host/db.
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/switchboard.db")
    migrate_on_start: bool = False
    """Upgrade the schema at start: a convenience for the embedded mode and development
    only. In production the migration Job (`python -m services.routing.db upgrade`)
    runs first, and routing refuses to start on a schema older than it needs."""

    dispatcher: Literal["local", "cloud_tasks"] = "local"
    # Where delivery's push endpoint listens (the local dispatcher and Cloud Tasks).
    delivery_url: str = "http://127.0.0.1:8082"
    # Shared with delivery: the local dispatcher signs its pushes with it.
    push_secret: SecretStr = SecretStr("")
    lanes: dict[str, LaneSettings] = Field(default_factory=default_lanes)

    cloud_tasks_project: str = ""
    cloud_tasks_location: str = ""
    # The service account whose OIDC token Cloud Tasks attaches to each push.
    cloud_tasks_service_account: str = ""
    # The OIDC audience on every task; delivery checks this one value
    # (SWITCHBOARD_DELIVERY_PUSH_AUDIENCE). Empty: the delivery URL.
    cloud_tasks_audience: str = ""
    # host:port of a Cloud Tasks emulator (tests); empty = Google's API.
    cloud_tasks_emulator: str = ""

    # How long a delivery worker's claim on a job holds: longer than a worker can take
    # (pacing wait + Telegram timeout + reporting), since a second push may send once it
    # runs out; a worker that dies mid-send holds its destination up for this long.
    claim_lease_seconds: float = Field(default=60.0, gt=0)

    relay_batch: int = Field(default=200, ge=1)
    relay_idle_seconds: float = Field(default=1.0, gt=0)
    # Passes of the relay start at least this far apart; wakes in between share one.
    relay_min_interval_ms: float = Field(default=10.0, ge=0, le=1000)
    outbox_metrics_interval_seconds: float = Field(default=15.0, ge=0)
    """How often the outbox's depth and oldest unfinished job per lane are counted for
    /metrics (one grouped query per replica); 0 turns the count off."""

    # How a staff line reaches the client: {name} and {role} are the staff registry's
    # display name and role label. The first line is shown bold.
    attribution_template: str = "{name} · {role}\n"
    # A staff note (`/note …`), shown in the other staff topics only.
    note_template: str = "📝 {name} · {role} · note for staff\n"
    note_command: str = Field(default="note", pattern=r"^[a-z0-9_]{1,32}$")
    delete_command: str = Field(default="delete", pattern=r"^[a-z0-9_]{1,32}$")
    # Album items arriving within this long of each other go on as one album.
    album_window_ms: float = Field(default=1000.0, ge=50, le=10000)

    # Onboarding: a client proves who they are with their account's email, checked
    # against the directory table (imported through the operations API) or a company's
    # HTTP directory service (see services/routing/directory.py for its contract).
    onboarding_tries_per_hour: int = Field(default=5, ge=1, le=100)
    directory: Literal["table", "http"] = "table"
    directory_url: str = ""
    directory_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # "Header-Name: value" sent to the directory service, e.g. "Authorization: Bearer …".
    directory_auth_header: SecretStr = SecretStr("")
    # Said when a customer is live: {name}, {email}, {team}, {treatment}, {confirmed_by}.
    welcome_client_template: str = _TEXTS.welcome_client
    welcome_staff_template: str = _TEXTS.welcome_staff

    @model_validator(mode="after")
    def _directory_has_a_url(self) -> RoutingSettings:
        if self.directory == "http" and not self.directory_url.startswith(("http://", "https://")):
            raise ValueError("SWITCHBOARD_ROUTING_DIRECTORY_URL (http or https) is required")
        return self
