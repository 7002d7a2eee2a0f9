"""ingress's settings, read from `SWITCHBOARD_INGRESS_*` variables in `__main__` only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import InternalCallerSettings
from servicekit.settings import ServiceSettings

ROLES = ("client", "cs", "cr", "treatment")

_TOKEN = re.compile(r"(\d+):[A-Za-z0-9_-]+")
# What Telegram's setWebhook accepts as a secret_token.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True, slots=True)
class ServedBot:
    """One bot ingress serves: its role, its id (the digits before ':' in the token)."""

    role: str
    bot_id: int
    token: SecretStr
    # Compared byte-wise in constant time; None only in polling mode.
    secret: bytes | None = field(default=None, repr=False)
    # Its webhook is /webhook/<name>, and the metrics and `webhooks --role` name it so:
    # the role for the role's own bot, <role>-<bot id> for a bot of a group's pool.
    name: str = ""


class PoolBot(BaseModel):
    """A further bot of a staff role (in a staff group's pool, beside the role's own)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    role: Literal["cs", "cr", "treatment"]
    token: SecretStr
    webhook_secret: SecretStr | None = None


class IngressSettings(ServiceSettings, InternalCallerSettings):
    """Knobs of the ingress process; a role without a token is not served."""

    # hide_input_in_errors: a rejected token or secret must not be echoed into the
    # startup error (pydantic prints the input value by default).
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_INGRESS_", hide_input_in_errors=True)

    grpc_port: int = 50051
    """The gRPC port; ingress serves only the standard health service there (the
    probes), no API.
    """
    http_host: str = "127.0.0.1"
    """The address the webhook server binds (0.0.0.0 in a container)."""
    http_port: int = Field(default=8080, ge=0, le=65535)
    """The webhook server's port: Telegram posts to /webhook/<role>; /healthz and
    /readyz are the probes.
    """
    routing_target: str = "127.0.0.1:50052"
    """host:port of routing's gRPC API."""
    routing_deadline_seconds: float = Field(default=5.0, gt=0)
    """How long a RecordUpdates call to routing may take. Telegram waits about 60 s for
    an answer; failing sooner lets it retry sooner.
    """
    mode: Literal["webhook", "polling"] = "webhook"
    """`webhook`: Telegram posts updates (production); `polling`: ingress long-polls
    getUpdates (real bots without a public URL).
    """

    client_token: SecretStr | None = None
    """The client bot's token (digits:secret); a role without a token is not served."""
    cs_token: SecretStr | None = None
    """The CS bot's token."""
    cr_token: SecretStr | None = None
    """The CR bot's token."""
    treatment_token: SecretStr | None = None
    """The Treatment bot's token."""
    client_webhook_secret: SecretStr | None = None
    """The client bot's webhook secret (1-256 of A-Z a-z 0-9 _ -): Telegram sends it in
    X-Telegram-Bot-Api-Secret-Token and anything else is refused with 401. Required in
    webhook mode for every served bot.
    """
    cs_webhook_secret: SecretStr | None = None
    """The CS bot's webhook secret."""
    cr_webhook_secret: SecretStr | None = None
    """The CR bot's webhook secret."""
    treatment_webhook_secret: SecretStr | None = None
    """The Treatment bot's webhook secret."""
    pool_bots: list[PoolBot] = Field(default_factory=list)
    """Further bots of a staff role, beside the role's own (the pools of staff groups in
    the registry), as JSON: `[{"role": "cs", "token": "<digits>:<secret>",
    "webhook_secret": "..."}]`. Each is served at /webhook/<role>-<bot id>, the name the
    metrics and `webhooks --role` use for it; a webhook secret is required in webhook
    mode, as for every bot.
    """

    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    """The largest webhook body accepted; a larger one is answered 413 and counted."""
    batch_window_ms: float = Field(default=2.0, ge=0)
    """How long an update may wait for others to share one RecordUpdates call."""
    batch_max: int = Field(default=100, ge=1)
    """The most updates in one RecordUpdates call (and the getUpdates limit when
    polling).
    """
    batch_max_in_flight: int = Field(default=2, ge=1)
    """RecordUpdates calls one process keeps outstanding; more updates wait and go in
    one call when a call ends, so under load routing runs few, large transactions.
    """
    unavailable_retry_after_seconds: int = Field(default=2, ge=1)
    """Sent as Retry-After with a 503 when routing cannot record: Telegram honours it
    instead of backing off towards 60-120 s, so updates flow again soon after routing is
    back.
    """

    bot_api_base: str = "https://api.telegram.org"
    """The Bot API's base URL (the sandbox's in development)."""
    poll_timeout_seconds: int = Field(default=25, ge=0, le=50)
    """The long-poll timeout of each getUpdates call in polling mode."""
    webhook_info_interval_seconds: float = Field(default=60.0, ge=0)
    """In webhook mode with metrics on: how often getWebhookInfo is asked for each bot's
    pending update count and last delivery error (exported on /metrics); 0 = never."""
    public_url: str = ""
    """The public base URL Telegram posts updates to (https, e.g.
    https://hooks.example.com); each bot's webhook is <public_url>/webhook/<role>. Read
    by `python -m services.ingress.webhooks register`, not by the server.
    """
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    """How many webhook requests Telegram keeps open at once per bot (1-100), set by
    `python -m services.ingress.webhooks register`.
    """

    @field_validator("bot_api_base", "public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str) -> str:
        # Telegram itself insists on https; plain http is for the sandbox.
        if value and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
            raise ValueError("public_url must be an http(s) URL, e.g. https://hooks.example.com")
        return value

    @model_validator(mode="after")
    def _bots_are_usable(self) -> IngressSettings:
        bots = self.served_bots()  # raises on a malformed token or secret
        if not bots:
            raise ValueError("no bot token configured (SWITCHBOARD_INGRESS_<ROLE>_TOKEN)")
        if self.mode == "webhook":
            unguarded = [name for name, bot in bots.items() if bot.secret is None]
            if unguarded:
                # Without a secret anyone could post updates in the bot's name.
                raise ValueError(f"webhook mode needs a webhook secret for: {unguarded}")
        return self

    def served_bots(self) -> dict[str, ServedBot]:
        """Answer the bots to serve by name: each role's own (only roles that have a
        token), then the pool bots."""
        bots = {}
        for role in ROLES:
            token: SecretStr | None = getattr(self, f"{role}_token")
            if token is not None:
                secret: SecretStr | None = getattr(self, f"{role}_webhook_secret")
                bots[role] = _served(role, token, secret, named=None)
        for pooled in self.pool_bots:
            bot = _served(pooled.role, pooled.token, pooled.webhook_secret, named="pool")
            if bot.name in bots or any(b.bot_id == bot.bot_id for b in bots.values()):
                raise ValueError(f"the {bot.name} bot is configured twice")
            bots[bot.name] = bot
        return bots


def _served(
    role: str, token: SecretStr, secret: SecretStr | None, *, named: str | None
) -> ServedBot:
    """A bot to serve, its token and secret checked (neither is ever echoed)."""
    which = f"a {role} pool bot's" if named else f"the {role}"
    match = _TOKEN.fullmatch(token.get_secret_value())
    if match is None:
        raise ValueError(f"{which} token is not a bot token (<digits>:<secret>)")
    bot_id = int(match.group(1))
    secret_bytes = None
    if secret is not None:
        if not _SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError(f"{which} webhook secret must be 1-256 of A-Z a-z 0-9 _ -")
        secret_bytes = secret.get_secret_value().encode()
    name = f"{role}-{bot_id}" if named else role
    return ServedBot(role, bot_id, token, secret_bytes, name=name)
