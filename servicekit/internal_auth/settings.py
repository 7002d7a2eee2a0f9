"""The internal-auth settings, as mixins a service's settings class adds to
ServiceSettings: callers get a private key, servers a table of trusted public keys
(delivery is both).

    class DeliverySettings(ServiceSettings, InternalCallerSettings, InternalServerSettings):
        ...
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .keys import UnusableKey, load_private, load_public
from .tokens import printable_name

InternalAuth = Literal["loopback", "token"]


class _InternalAuthMode(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    internal_auth: InternalAuth = "loopback"
    """How calls between services are authenticated: `loopback` (embedded mode: no
    tokens; routing's and delivery's gRPC must bind a loopback address) or `token` (every
    call carries a signed service token; required whenever gRPC is reachable from other
    hosts, as in Kubernetes)."""

    def _prefix(self) -> str:
        return str(self.model_config.get("env_prefix", ""))


class InternalCallerSettings(_InternalAuthMode):
    """A service that calls routing's or delivery's gRPC."""

    internal_key: SecretStr | None = None
    """This service's ES256 (P-256) private key, as PEM or one base64 line of PKCS#8 DER
    (`python -m servicekit.internal_auth keygen` makes one); it signs the service tokens
    this service sends. Required when `internal_auth` is `token`."""

    @model_validator(mode="after")
    def _caller_has_a_usable_key(self) -> InternalCallerSettings:
        if self.internal_auth != "token":
            return self
        if self.internal_key is None or not self.internal_key.get_secret_value().strip():
            raise ValueError(
                f"{self._prefix()}INTERNAL_KEY is required when INTERNAL_AUTH is token"
            )
        try:
            load_private(self.internal_key.get_secret_value())
        except UnusableKey as error:
            raise ValueError(f"{self._prefix()}INTERNAL_KEY: {error}") from None
        return self


class InternalServerSettings(_InternalAuthMode):
    """A service whose gRPC API only the other services may call."""

    internal_trusted_keys: dict[str, list[str]] = Field(default_factory=dict)
    """The callers this service accepts, as JSON: caller name (`ingress`, `delivery`,
    `admin`) to a list of its public keys (one base64 line each, as keygen prints, or PEM).
    List two keys for a caller while rotating its key. Used when `internal_auth` is
    `token`."""

    @field_validator("internal_trusted_keys")
    @classmethod
    def _keys_are_readable(cls, trusted: dict[str, list[str]]) -> dict[str, list[str]]:
        for caller, keys in trusted.items():
            if printable_name(caller) is None:
                raise ValueError("a caller name is lowercase letters, digits and dashes")
            if not keys:
                raise ValueError(f"no public key listed for {caller}")
            for number, key in enumerate(keys, start=1):
                try:
                    load_public(key)
                except UnusableKey as error:
                    raise ValueError(f"{caller}'s key #{number}: {error}") from None
        return trusted

    @model_validator(mode="after")
    def _reachable_only_when_guarded(self) -> InternalServerSettings:
        host = str(getattr(self, "grpc_host", ""))
        if self.internal_auth == "loopback" and not is_loopback(host):
            raise ValueError(
                f"{self._prefix()}GRPC_HOST is {host or '(all interfaces)'} but INTERNAL_AUTH is "
                "loopback: anyone reaching the port could call the API. Bind a loopback "
                f"address (127.0.0.1) or set {self._prefix()}INTERNAL_AUTH=token with "
                f"{self._prefix()}INTERNAL_TRUSTED_KEYS"
            )
        if self.internal_auth == "token" and not self.internal_trusted_keys:
            raise ValueError(
                f"{self._prefix()}INTERNAL_TRUSTED_KEYS is empty, so no service could call "
                "this one (INTERNAL_AUTH is token)"
            )
        return self


def is_loopback(host: str) -> bool:
    """Whether a bind address reaches only this host."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
