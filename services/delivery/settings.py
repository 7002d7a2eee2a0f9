"""delivery's settings, read from `SWITCHBOARD_DELIVERY_*` variables in `__main__` only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import InternalCallerSettings, InternalServerSettings
from servicekit.lanes import LaneSettings, default_lanes
from servicekit.settings import ServiceSettings

ROLES = ("client", "cs", "cr", "treatment")


class DeliverySettings(ServiceSettings, InternalCallerSettings, InternalServerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_DELIVERY_", hide_input_in_errors=True)

    grpc_port: int = 50053
    """The gRPC port: DeliveryService (lanes, bot checks) and the health service."""
    http_host: str = "127.0.0.1"
    """The address the push endpoint binds (0.0.0.0 in a container)."""
    http_port: int = Field(default=8082, ge=0, le=65535)
    """The push endpoint's port: jobs arrive at /push/<lane>; /healthz and /readyz are
    the probes.
    """
    routing_target: str = "127.0.0.1:50052"
    """host:port of routing's gRPC API (claims and outcomes)."""
    bot_api_base: str = "https://api.telegram.org"
    """The Bot API's base URL (the sandbox's in development)."""
    telegram_timeout_seconds: float = Field(default=30.0, gt=0)
    """How long one Bot API call may take. Telegram answers in a few hundred ms; a hung
    call must not hold a lane.
    """

    client_token: SecretStr | None = None
    """The client bot's token; a role without a token cannot be sent with."""
    cs_token: SecretStr | None = None
    """The CS bot's token."""
    cr_token: SecretStr | None = None
    """The CR bot's token."""
    treatment_token: SecretStr | None = None
    """The Treatment bot's token."""
    pool_tokens: dict[Literal["cs", "cr", "treatment"], list[SecretStr]] = Field(
        default_factory=dict
    )
    """Further bots of a staff role, beside the role's own (the pools of staff groups in
    the registry): their tokens by role, as JSON, e.g. `{"cs": ["<digits>:<secret>"]}`.
    A job goes out with the token of its bot; a pool bot without a token here cannot
    send.
    """

    push_auth: Literal["local", "google"] = "local"
    """Which pushes are accepted: `local` (a token signed with push_secret by routing's
    local dispatcher) or `google` (an OIDC token from Cloud Tasks for
    push_service_account with push_audience).
    """
    push_secret: SecretStr = SecretStr("")
    """Shared with routing's local dispatcher (push_auth `local`)."""
    push_audience: str = ""
    """The audience the Cloud Tasks OIDC token must carry (push_auth `google`)."""
    push_service_account: str = ""
    """The service account the Cloud Tasks OIDC token must be for (push_auth `google`)."""
    lanes: dict[str, LaneSettings] = Field(default_factory=default_lanes)
    """The lanes delivery accepts pushes for, with their settings (JSON; see Lanes
    below).
    """

    chat_per_sec: float = Field(default=1.0, gt=0)
    """Sends per second to one private chat (Telegram allows about 1)."""
    chat_burst: int = Field(default=3, ge=1)
    """Sends to one private chat that may go at once before the rate applies."""
    group_per_min: float = Field(default=20.0, gt=0)
    """Sends per minute to one group per bot (Telegram allows about 20), shared by its
    topics.
    """
    group_burst: int = Field(default=5, ge=1)
    """Sends to one group that may go at once before the rate applies."""
    bot_per_sec: float = Field(default=30.0, gt=0)
    """Sends per second by one bot (Telegram allows about 30)."""
    bot_burst: int = Field(default=30, ge=1)
    """Sends by one bot that may go at once before the rate applies."""
    max_pace_wait_seconds: float = Field(default=5.0, ge=0)
    """The longest a push waits for its pacing slot before handing the job back to be
    pushed again later.
    """
    check_unsure_sends: bool = True
    """Before sending again a message whose last attempt may have reached Telegram
    unheard of (a timeout after the request left, an outcome that never reached routing),
    find out whether it exists: its bot forwards the candidates into its log chat
    (`log_chat_id` in the registry) and deletes the forwards. Found, it is not sent
    again. Off, or a bot without a log chat: sent again unchecked (a visible duplicate
    when Telegram had made it).
    """

    def tokens(self) -> dict[str, SecretStr]:
        found = {role: getattr(self, f"{role}_token") for role in ROLES}
        return {role: token for role, token in found.items() if token is not None}

    def pool(self) -> list[tuple[str, SecretStr]]:
        """The pool bots' tokens with their role."""
        return [(role, token) for role, tokens in self.pool_tokens.items() for token in tokens]
