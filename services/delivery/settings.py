"""delivery's settings, read from `SWITCHBOARD_DELIVERY_*` variables in `__main__` only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.lanes import LaneSettings, default_lanes
from servicekit.settings import ServiceSettings

ROLES = ("client", "cs", "cr", "treatment")


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_DELIVERY_", hide_input_in_errors=True)

    grpc_port: int = 50053
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8082, ge=0, le=65535)
    routing_target: str = "127.0.0.1:50052"
    bot_api_base: str = "https://api.telegram.org"
    # Telegram's answers take a few hundred ms; a hung call must not hold a lane.
    telegram_timeout_seconds: float = Field(default=30.0, gt=0)

    client_token: SecretStr | None = None
    cs_token: SecretStr | None = None
    cr_token: SecretStr | None = None
    treatment_token: SecretStr | None = None

    # local: pushes carry a token signed with push_secret (the local dispatcher);
    # google: an OIDC token from Cloud Tasks for service_account, with audience.
    push_auth: Literal["local", "google"] = "local"
    push_secret: SecretStr = SecretStr("")
    push_audience: str = ""
    push_service_account: str = ""
    lanes: dict[str, LaneSettings] = Field(default_factory=default_lanes)

    # Telegram's limits, planned: per chat, per group, per bot.
    chat_per_sec: float = Field(default=1.0, gt=0)
    chat_burst: int = Field(default=3, ge=1)
    group_per_min: float = Field(default=20.0, gt=0)
    group_burst: int = Field(default=5, ge=1)
    bot_per_sec: float = Field(default=30.0, gt=0)
    bot_burst: int = Field(default=30, ge=1)
    # The longest a push waits for its pacing slot before handing the job back.
    max_pace_wait_seconds: float = Field(default=5.0, ge=0)

    def tokens(self) -> dict[str, SecretStr]:
        found = {role: getattr(self, f"{role}_token") for role in ROLES}
        return {role: token for role, token in found.items() if token is not None}
