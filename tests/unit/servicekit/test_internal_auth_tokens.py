"""Service tokens: what a called service lets in, and why it refuses the rest."""

from __future__ import annotations

import base64
import json
import time

import pytest
from google.auth import jwt
from google.auth.crypt import es256

from servicekit.internal_auth import Refused, TokenMinter, TokenVerifier
from servicekit.internal_auth.keys import generate, key_id, load_private, load_public

INGRESS = load_private(generate().private_pem)
INGRESS_NEXT = load_private(generate().private_pem)
ADMIN = load_private(generate().private_pem)
STRANGER = load_private(generate().private_pem)


class Clock:
    """A clock a test moves by hand, starting now."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


def routing(*, clock: Clock | None = None, **trusted) -> TokenVerifier:
    keys = trusted or {"ingress": [INGRESS.public_key()], "admin": [ADMIN.public_key()]}
    return TokenVerifier(keys, audience="routing", clock=clock or Clock())


def token(key=INGRESS, *, caller: str = "ingress", audience: str = "routing", **minter) -> str:
    header = TokenMinter(key, caller=caller, audience=audience, **minter).authorization()
    assert header.startswith("Bearer ")
    return header.removeprefix("Bearer ")


def refusal(verifier: TokenVerifier, presented: str) -> Refused:
    with pytest.raises(Refused) as refused:
        verifier.verify(presented)
    # Whatever went wrong, no part of the token is repeated back (or logged).
    for part in presented.split("."):
        assert len(part) < 8 or part not in str(refused.value)
    return refused.value


def signed(key, claims: dict, header: dict | None = None) -> str:
    """A token with exactly these claims, as a misbehaving signer would make it."""
    signer = es256.ES256Signer(key, key_id=key_id(key.public_key()))
    return jwt.encode(signer, claims, header=header).decode()


def test_a_token_from_a_trusted_caller_names_that_caller() -> None:
    assert routing().verify(token()) == "ingress"
    assert routing().verify(token(ADMIN, caller="admin")) == "admin"


def test_an_expired_token_is_refused() -> None:
    stale = token(clock=Clock(-400))  # minted 400 s ago, good for 300
    assert refusal(routing(), stale).reason == "the token has expired"


def test_a_token_for_another_service_is_refused() -> None:
    for_delivery = token(audience="delivery")
    assert refusal(routing(), for_delivery).reason == "the token is for delivery, not routing"


def test_a_token_signed_with_a_key_the_server_does_not_trust_is_refused() -> None:
    forged = token(STRANGER, caller="ingress")
    found = refusal(routing(), forged)
    assert found.reason == "the signature does not match a trusted key of ingress"
    assert found.caller == "ingress"


def test_an_unknown_caller_is_refused() -> None:
    found = refusal(routing(), token(STRANGER, caller="intruder"))
    assert found.reason == "unknown caller intruder"
    # A name that does not look like a service's is not echoed into the message.
    odd = refusal(routing(), token(STRANGER, caller="<script>"))
    assert odd.reason == "unknown caller (unnamed)"


def test_a_tampered_token_is_refused() -> None:
    header, _claims, signature = token().split(".")
    claims = {
        "iss": "admin",
        "sub": "admin",
        "aud": "routing",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
    }
    forged_claims = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    found = refusal(routing(), f"{header}.{forged_claims}.{signature}")
    assert found.reason == "the signature does not match a trusted key of admin"


def test_both_keys_of_a_caller_in_rotation_are_accepted() -> None:
    rotating = routing(ingress=[INGRESS.public_key(), INGRESS_NEXT.public_key()])
    assert rotating.verify(token(INGRESS)) == "ingress"
    assert rotating.verify(token(INGRESS_NEXT)) == "ingress"
    # Once the old key is dropped, its tokens stop working.
    rotated = routing(ingress=[INGRESS_NEXT.public_key()])
    assert refusal(rotated, token(INGRESS)).caller == "ingress"


def test_a_token_that_would_live_too_long_is_refused_even_if_signed() -> None:
    now = int(time.time())
    claims = {"iss": "ingress", "aud": "routing", "iat": now, "exp": now + 86400}
    assert refusal(routing(), signed(INGRESS, claims)).reason == "the token lives longer than 600 s"


def test_a_token_from_the_future_is_refused() -> None:
    early = token(clock=Clock(+120))
    assert "issued in the future" in refusal(routing(), early).reason


def test_only_es256_tokens_are_considered() -> None:
    now = int(time.time())
    claims = {"iss": "ingress", "aud": "routing", "iat": now, "exp": now + 60}
    unsigned = signed(INGRESS, claims, header={"alg": "none"})
    assert refusal(routing(), unsigned).reason == "the token is not signed with ES256"


def test_garbage_is_a_malformed_token() -> None:
    for garbage in ("", "abc", "a.b.c", "Zm9v.YmFy.YmF6"):
        assert refusal(routing(), garbage).reason == "the token is malformed"


def test_a_verified_token_is_remembered_only_until_it_expires() -> None:
    clock = Clock()
    verifier = routing(clock=clock)
    presented = token()
    assert verifier.verify(presented) == "ingress"
    clock.offset = 200
    assert verifier.verify(presented) == "ingress"
    clock.offset = 400
    assert refusal(verifier, presented).reason == "the token has expired"


def test_the_caller_reuses_its_token_and_mints_a_new_one_before_expiry() -> None:
    clock = Clock()
    minter = TokenMinter(INGRESS, caller="ingress", audience="routing", clock=clock)
    first = minter.authorization()
    clock.offset = 200
    assert minter.authorization() == first
    clock.offset = 250  # within a minute of expiry
    renewed = minter.authorization()
    assert renewed != first
    claims = jwt.decode(renewed.removeprefix("Bearer "), verify=False)
    assert claims["exp"] - claims["iat"] == 300
    assert (claims["iss"], claims["aud"]) == ("ingress", "routing")
    assert "Bearer" not in repr(minter)


def test_keys_read_as_pem_or_as_one_base64_line() -> None:
    pair = generate()
    assert "\n" not in pair.public
    private = load_private(pair.private_pem)
    one_line = "".join(pair.private_pem.splitlines()[1:-1])
    assert load_private(one_line).private_numbers() == private.private_numbers()
    assert load_public(pair.public) == private.public_key()
