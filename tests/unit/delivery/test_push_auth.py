"""Push authentication: Google OIDC tokens and the local dispatcher's tokens."""

from __future__ import annotations

import base64
import json
import time

import pytest

from servicekit import push_tokens as local_token
from servicekit.push_tokens import TokenRejected
from services.delivery.auth.errors import PushRejected, bearer_token
from services.delivery.auth.google_oidc import CertCache, GoogleOidcVerifier
from tests.unit.delivery.oidc_keys import AUDIENCE, SERVICE_ACCOUNT, SigningKey, make_key


@pytest.fixture(scope="module")
def google_key() -> SigningKey:
    return make_key("google-kid-1")


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return make_key("google-kid-1")  # same kid, different key: a forger


def _verifier(key: SigningKey, fetches: list[int] | None = None) -> GoogleOidcVerifier:
    async def fetch() -> tuple[dict[str, str], float]:
        if fetches is not None:
            fetches.append(1)
        return {key.kid: key.cert_pem}, 3600.0

    return GoogleOidcVerifier(
        audience=AUDIENCE, service_account=SERVICE_ACCOUNT, certs=CertCache(fetch)
    )


async def test_a_valid_token_passes(google_key: SigningKey) -> None:
    claims = await _verifier(google_key).verify(google_key.token())
    assert claims["email"] == SERVICE_ACCOUNT


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://elsewhere.example/push"}, "token rejected"),
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 3720}, "token rejected"),
        ({"email": "intruder@evil.example"}, "another service account"),
        ({"iss": "https://issuer.example"}, "not issued by Google"),
        ({"email_verified": False}, "not verified"),
    ],
    ids=["wrong-audience", "expired", "wrong-service-account", "wrong-issuer", "unverified"],
)
async def test_bad_claims_are_rejected(
    google_key: SigningKey, overrides: dict, reason: str
) -> None:
    with pytest.raises(PushRejected, match=reason):
        await _verifier(google_key).verify(google_key.token(**overrides))


async def test_a_token_signed_by_another_key_is_rejected(
    google_key: SigningKey, other_key: SigningKey
) -> None:
    with pytest.raises(PushRejected, match="token rejected"):
        await _verifier(google_key).verify(other_key.token())


async def test_an_unsigned_token_is_rejected(google_key: SigningKey) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = json.loads(base64.urlsafe_b64decode(google_key.token().split(".")[1] + "=="))
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(PushRejected, match="not RS256"):
        await _verifier(google_key).verify(f"{header}.{payload}.")
    with pytest.raises(PushRejected, match="not a JWT"):
        await _verifier(google_key).verify("garbage")


async def test_certificates_are_fetched_once(google_key: SigningKey) -> None:
    fetches: list[int] = []
    verifier = _verifier(google_key, fetches)
    for _ in range(5):
        await verifier.verify(google_key.token())
    assert len(fetches) == 1


async def test_rejection_reasons_never_quote_the_token(google_key: SigningKey) -> None:
    token = google_key.token(aud="https://elsewhere.example/push")
    with pytest.raises(PushRejected) as caught:
        await _verifier(google_key).verify(token)
    assert token not in caught.value.reason
    assert "elsewhere" not in caught.value.reason


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc.def") == "abc.def"
    for bad in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(PushRejected):
            bearer_token(bad)


def test_local_tokens_round_trip_and_refuse_tampering() -> None:
    secret = b"s" * 32
    token = local_token.sign(secret, audience="delivery", ttl_seconds=60)
    assert local_token.verify(secret, token, audience="delivery")["iss"] == local_token.ISSUER
    with pytest.raises(TokenRejected, match="signature"):
        local_token.verify(b"x" * 32, token, audience="delivery")
    with pytest.raises(TokenRejected, match="audience"):
        local_token.verify(secret, token, audience="admin")
    expired = local_token.sign(secret, audience="delivery", ttl_seconds=60, now=time.time() - 120)
    with pytest.raises(TokenRejected, match="expired"):
        local_token.verify(secret, expired, audience="delivery")
    payload, _, mac = token.partition(".")
    with pytest.raises(TokenRejected):
        local_token.verify(secret, payload[:-2] + "AA." + mac, audience="delivery")
