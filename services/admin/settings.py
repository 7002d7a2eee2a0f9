"""admin's settings, read from `SWITCHBOARD_ADMIN_*` variables in `__main__` only.

There is no key among them: API keys live (hashed) in routing, made with the API
itself or, for the very first one, routing's keys_cli.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import InternalCallerSettings
from servicekit.settings import ServiceSettings


class AdminSettings(ServiceSettings, InternalCallerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ADMIN_", hide_input_in_errors=True)

    grpc_port: int = 50054
    """The gRPC port: AdminService and the health service."""
    http_host: str = "127.0.0.1"
    """The address the REST API binds (0.0.0.0 in a container)."""
    http_port: int = Field(default=8083, ge=0, le=65535)
    """The REST API's port (/v1/…, /openapi.json; /healthz and /readyz are the probes)."""
    routing_target: str = "127.0.0.1:50052"
    """host:port of routing's gRPC API (OperationsService)."""
