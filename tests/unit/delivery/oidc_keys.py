"""A self-signed key pair and certificate standing in for Google's, and a helper to
mint ID tokens like the ones Cloud Tasks attaches."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

AUDIENCE = "https://delivery.example/push/client-to-staff"
SERVICE_ACCOUNT = "tasks@switchboard-test.iam.gserviceaccount.com"


@dataclass
class SigningKey:
    kid: str
    private_pem: str
    cert_pem: str

    def token(self, **overrides: object) -> str:
        now = int(time.time())
        claims: dict = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "email": SERVICE_ACCOUNT,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
            "sub": "1234567890",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.kid)
        return jwt.encode(signer, claims).decode()


def make_key(kid: str) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(kid, private_pem, cert.public_bytes(serialization.Encoding.PEM).decode())
