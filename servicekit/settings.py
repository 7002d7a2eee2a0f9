"""The settings every service has; each service subclasses it with its own env prefix.

    class RoutingSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ROUTING_")
        grpc_port: int = 50052
        database_url: SecretStr

Settings are read once, in the service's `__main__`, never at import time.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.redaction import redact

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# The password in a URL's user info (`mysql://user:password@host/db`).
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]+@")


class ServiceSettings(BaseSettings):
    """Knobs shared by every service; names map to `<env_prefix><NAME>` variables."""

    # extra="ignore": the environment holds other services' variables too.
    # use_attribute_docstrings: the docstring under each field is its description, which
    # docs/configuration.md is generated from.
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    log_level: LogLevel = "INFO"
    """The lowest level logged (JSON lines on standard output)."""
    grpc_host: str = "127.0.0.1"
    """The address the gRPC server (and the /metrics endpoint) binds: 127.0.0.1 on one
    machine, 0.0.0.0 in a container.
    """
    # Each service gives its own default by redefining the field; the range check is a
    # validator rather than Field(ge=, le=) because a redefinition drops Field's.
    grpc_port: int
    """The gRPC server's port: the service's API if it has one, and always the standard
    health service the probes ask. 0 lets the kernel pick (tests).
    """
    grpc_reflection: bool = False
    """Serve gRPC server reflection (for grpcurl and the like). Off by default: it hands
    anyone who reaches the port a map of the API."""
    metrics_port: int | None = None
    """Serve Prometheus metrics at /metrics on this port (on grpc_host, never the public
    HTTP port); unset runs no metrics endpoint (tests, one-off commands).
    """
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    """On SIGTERM, how long work in flight may take to finish after readiness turns
    false and new work stops; Kubernetes' terminationGracePeriodSeconds must be longer.
    """

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("grpc_port", "metrics_port")
    @classmethod
    def _port_in_range(cls, value: int | None) -> int | None:
        # 0 is allowed: the kernel picks a free port (tests).
        if value is not None and not 0 <= value <= 65535:
            raise ValueError("a port is between 0 and 65535")
        return value


def settings_for_log(settings: BaseModel) -> dict[str, Any]:
    """Answer the settings as a JSON-safe dict fit for a log line: `SecretStr` values
    show as `**********`, URL passwords and bot tokens in plain strings as masked."""
    # mode="json" is where pydantic turns SecretStr/SecretBytes into asterisks.
    return {key: _mask(value) for key, value in settings.model_dump(mode="json").items()}


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return redact(_URL_PASSWORD.sub(r"\1**********@", value))
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value
