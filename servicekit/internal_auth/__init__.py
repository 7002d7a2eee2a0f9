"""Internal calls are authenticated: routing's and delivery's gRPC accept only the
other services.

Each calling service (ingress, delivery, admin) holds its own ES256 (P-256) private
key and sends, as `authorization: Bearer …` metadata on every call, a short-lived JWT
it signs with google-auth: `iss` its own name, `aud` the service it calls, `iat`/`exp`
five minutes apart, re-minted before expiry. The called service checks the signature
against the public keys it trusts for that caller, the audience and the expiry (with
a little clock skew), then whether that caller may call that method (`Policy`).
Health, and reflection when turned on, stay open: probes carry no token.

Why a signed token per caller rather than mutual TLS:
- Kubernetes' native gRPC probes cannot speak TLS, so mTLS would need a second,
  plaintext server just for health;
- there is no certificate authority or cert-manager to run, only one key pair per
  calling service (`python -m servicekit.internal_auth keygen`);
- keys rotate by listing two public keys for a caller, then dropping the old one;
- the server knows *which* service calls, so each one gets only its own methods.
What it does not give is encryption: the traffic inside the cluster stays plaintext
(a NetworkPolicy keeps routing reachable only from the other services), and a token
seen on the wire is a bearer credential for at most its five minutes, for one audience.

In the embedded mode (`internal_auth = "loopback"`) there are no tokens, and routing
and delivery refuse to start unless their gRPC binds a loopback address.
"""

from __future__ import annotations

import grpc

from .interceptor import InternalAuthInterceptor, Policy
from .keys import load_private, load_public
from .settings import InternalCallerSettings, InternalServerSettings
from .tokens import Refused, TokenMinter, TokenVerifier

__all__ = [
    "InternalAuthInterceptor",
    "InternalCallerSettings",
    "InternalServerSettings",
    "Policy",
    "Refused",
    "TokenMinter",
    "TokenVerifier",
    "credential",
    "server_interceptors",
]


def credential(
    settings: InternalCallerSettings, *, caller: str, audience: str
) -> TokenMinter | None:
    """The credential `caller` sends to `audience` (for `grpc_client.channel`), or None
    in loopback mode."""
    if settings.internal_auth != "token":
        return None
    if settings.internal_key is None:  # the settings' validator already insists on one
        raise ValueError("INTERNAL_KEY is required when INTERNAL_AUTH is token")
    key = load_private(settings.internal_key.get_secret_value())
    return TokenMinter(key, caller=caller, audience=audience)


def server_interceptors(
    settings: InternalServerSettings, *, audience: str, policy: Policy
) -> list[grpc.aio.ServerInterceptor]:
    """The interceptors that guard a server named `audience` (none in loopback mode, where
    the settings already insist on a loopback bind)."""
    if settings.internal_auth != "token":
        return []
    trusted = {
        caller: [load_public(key) for key in keys]
        for caller, keys in settings.internal_trusted_keys.items()
    }
    return [InternalAuthInterceptor(TokenVerifier(trusted, audience=audience), policy)]
