"""ES256 (P-256) keys for service tokens: made, read, and named by a key id.

Settings take a key as PEM or as the same DER in one base64 line: a one-line value is
what fits a JSON setting or a ConfigMap without escaped newlines. Errors here never
include the key text (a private key must not reach a log or a startup error).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


class UnusableKey(ValueError):
    """A key setting that cannot be used; the message names the problem, never the key."""


@dataclass(frozen=True)
class KeyPair:
    """A new key pair: the private key as PEM (a secret) and the public key as one line."""

    private_pem: str
    public: str


def generate() -> KeyPair:
    """Make a new P-256 key pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(private_pem=pem, public=public_line(key.public_key()))


def load_private(text: str) -> ec.EllipticCurvePrivateKey:
    """Read a P-256 private key given as PEM or one base64 line of PKCS#8 DER."""
    try:
        if _PEM.search(text):
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
        else:
            key = serialization.load_der_private_key(_unbase64(text), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Our words, not cryptography's: nothing of the key text may reach the message.
        raise UnusableKey("not a readable unencrypted private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _is_p256(key.curve):
        raise UnusableKey("the private key is not an EC P-256 key (ES256 needs one)")
    return key


def load_public(text: str) -> ec.EllipticCurvePublicKey:
    """Read a P-256 public key given as PEM or one base64 line of SubjectPublicKeyInfo DER."""
    try:
        if _PEM.search(text):
            key = serialization.load_pem_public_key(text.strip().encode())
        else:
            key = serialization.load_der_public_key(_unbase64(text))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UnusableKey("not a readable public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not _is_p256(key.curve):
        raise UnusableKey("the public key is not an EC P-256 key (ES256 needs one)")
    return key


def public_line(key: ec.EllipticCurvePublicKey) -> str:
    """The public key as one base64 line (SubjectPublicKeyInfo DER), the settings' form."""
    return base64.b64encode(_spki(key)).decode()


def public_pem(key: ec.EllipticCurvePublicKey) -> str:
    """The public key as PEM, the form google-auth's verifier reads."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """A short public fingerprint: it names the key in a token's header, so the server
    picks the right one of a caller's keys (two during a rotation) without trying each."""
    digest = hashlib.sha256(_spki(key)).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _unbase64(text: str) -> bytes:
    if not _BASE64.fullmatch(text):
        raise ValueError("neither PEM nor base64")
    return base64.b64decode("".join(text.split()), validate=True)


def _is_p256(curve: ec.EllipticCurve) -> bool:
    return isinstance(curve, ec.SECP256R1)
