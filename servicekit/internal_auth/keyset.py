"""A fresh key pair for every calling service, and the settings that put a whole stack
in token mode: for the launcher, the e2e tests, the benchmarks and `make dev`.

    keys = keyset.generate()
    values = keys.settings()  # {"routing": {"internal_auth": "token", ...}, ...}
    env = keys.environment("routing")  # {"SWITCHBOARD_ROUTING_INTERNAL_AUTH": "token", ...}
    seed = channel(target, credential=keys.credential("admin", "routing"))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import keys as keylib
from .tokens import TokenMinter

# Who calls whom: the callers each server trusts (see each service's policy table for
# which methods each caller may use).
TRUSTED_CALLERS = {
    "routing": ("ingress", "delivery", "admin"),
    "delivery": ("admin",),
}
CALLERS = ("ingress", "delivery", "admin")
SERVICES = ("ingress", "routing", "delivery", "admin")


@dataclass(frozen=True)
class KeySet:
    """One key pair per calling service."""

    pairs: dict[str, keylib.KeyPair]

    def settings(self) -> dict[str, dict[str, Any]]:
        """Each service's internal-auth settings (field name to value) for token mode."""
        values: dict[str, dict[str, Any]] = {
            service: {"internal_auth": "token"} for service in SERVICES
        }
        for caller in CALLERS:
            values[caller]["internal_key"] = self.pairs[caller].private_pem
        for server, callers in TRUSTED_CALLERS.items():
            values[server]["internal_trusted_keys"] = {
                caller: [self.pairs[caller].public] for caller in callers
            }
        return values

    def environment(self, service: str) -> dict[str, str]:
        """The same settings for one service as its `SWITCHBOARD_<SERVICE>_*` variables."""
        prefix = f"SWITCHBOARD_{service.upper()}_"
        return {
            prefix + name.upper(): value if isinstance(value, str) else json.dumps(value)
            for name, value in self.settings()[service].items()
        }

    def credential(self, caller: str, audience: str) -> TokenMinter:
        """A credential in `caller`'s name, for a tool or test that calls as that service."""
        key = keylib.load_private(self.pairs[caller].private_pem)
        return TokenMinter(key, caller=caller, audience=audience)


def generate() -> KeySet:
    """A new key pair for each calling service."""
    return KeySet({caller: keylib.generate() for caller in CALLERS})
