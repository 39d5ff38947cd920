"""PyJWT's refusals outside the claim checks: each still gets its own client-safe sentence."""

from __future__ import annotations

import httpx
import pytest

from backend.auth.tokens import JwksVerifier, SharedSecretVerifier
from tests.auth.tokens import SECRET, claims, hand_signed, rejection, run

# What an operator might paste as BETTER_AUTH_SECRET instead of the secret: a JWK, a PEM key.
JWK_SECRET = b'{"kty": "oct", "k": "bm90LWEtc2VjcmV0LWJ1dC1hLWtleS1vZi0zMi1ieXRlcw"}'
PEM_SECRET = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
"""


@pytest.mark.parametrize("secret", [JWK_SECRET, PEM_SECRET], ids=["jwk", "pem"])
def test_a_shared_secret_that_is_a_key_refuses_every_token_saying_so(secret: bytes) -> None:
    """PyJWT will not use a key as an HMAC secret (InvalidKeyError), whatever the token."""
    verifier = SharedSecretVerifier(secret)
    token = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), secret=secret)
    assert rejection(verifier, token) == "signing key is not acceptable"


def test_a_kid_that_is_not_a_string_is_an_invalid_token() -> None:
    """PyJWT refuses it with its generic InvalidTokenError, which no narrower sentence names;
    the JWKS verifier refuses it from the header alone, before any fetch."""
    token = hand_signed({"alg": "HS256", "kid": 123}, claims())
    assert rejection(SharedSecretVerifier(SECRET), token) == "token is invalid"
    fetches: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        fetches.append(request)
        return httpx.Response(404)

    verifier = JwksVerifier("https://auth.example/jwks", transport=httpx.MockTransport(serve))
    eddsa = hand_signed({"alg": "EdDSA", "kid": 123}, claims())
    assert rejection(verifier, eddsa) == "token is invalid"
    assert fetches == []
    run(verifier.aclose())
