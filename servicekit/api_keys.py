"""The shape of an operations API key: `sbk_<key id>_<secret>`.

The key id is public (it names the key in listings and the audit); the secret is 32
random bytes shown once. Only the SHA-256 of the secret is stored: the secret has 256
bits of entropy, so a slow hash would add nothing but latency to every call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "sbk"
SCOPES = ("read", "assign", "send", "admin")
_SHAPE = re.compile(r"^sbk_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    key_id: str
    token: str  # the whole key, for the operator only
    secret_sha256: str


def generate() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret))


def parse(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key; None otherwise."""
    found = _SHAPE.match(token.strip())
    return (found.group(1), found.group(2)) if found else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_sha256: str) -> bool:
    """Compared in constant time, so the answer's timing says nothing about the hash."""
    return hmac.compare_digest(hash_secret(secret).encode(), stored_sha256.encode())


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes, validated and de-duplicated in their canonical order."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if not scopes:
        raise ValueError(f"at least one scope is needed (known: {', '.join(SCOPES)})")
    return [s for s in SCOPES if s in scopes]


_IN_TEXT = re.compile(r"\b(sbk_[a-f0-9]{12}_)[A-Za-z0-9_-]+")


def mask(text: str) -> str:
    """`text` with the secret of any key in it replaced (the public key id is kept), for
    a key pasted where an id belongs (a URL path, an audit target)."""
    return _IN_TEXT.sub(r"\1<redacted>", text)
