"""Rules of the verifiers that a caller sees only in a corner: which refusal comes first, a
clock that steps back under a cached token, and the defaults a verifier is built with."""

from __future__ import annotations

import httpx

from backend.auth.tokens import JwksVerifier, SharedSecretVerifier
from tests.auth.tokens import SECRET, FakeClock, claims, hs256, rejection, run
from tests.support.jwks import Ed25519Key

NOW = 1_800_000_000
ISSUER = "https://auth.test"
URL = "https://auth.example/api/auth/jwks"


def publishing(key: Ed25519Key) -> httpx.MockTransport:
    """A JWKS endpoint that publishes `key`."""
    return httpx.MockTransport(lambda _: httpx.Response(200, json={"keys": [key.public_jwk]}))


# --- the claims a token must carry are checked before their values -------------------------


def test_a_token_without_exp_is_refused_for_it_even_when_its_subject_is_a_number() -> None:
    """PyJWT's `require` names the missing `exp` before its `sub` check sees the number."""
    token = hs256({"sub": 42, "iat": NOW})
    assert rejection(SharedSecretVerifier(SECRET), token) == (
        "token is missing the required 'exp' claim"
    )


def test_a_token_without_sub_is_refused_for_it_even_from_a_foreign_issuer() -> None:
    """With an issuer configured, a token lacking `sub` is refused for its subject, before
    its issuer is compared."""
    token = hs256({"iss": "https://elsewhere.test", "exp": NOW + 600})
    verifier = SharedSecretVerifier(SECRET, issuer=ISSUER, clock=FakeClock(NOW))
    assert rejection(verifier, token) == "token subject is missing or not a string"


# --- a clock stepped back (NTP) under a cached token ----------------------------------------


def test_a_cached_token_is_refused_before_its_nbf_when_the_clock_steps_back() -> None:
    """The cache keeps each token's `nbf`: after the clock steps back past it, the cached
    token is refused as a fresh verifier refuses it."""
    clock = FakeClock(float(NOW))
    token = hs256(claims(iat=NOW - 10, nbf=NOW - 10, exp=NOW + 600))
    verifier = SharedSecretVerifier(SECRET, clock=clock)
    assert run(verifier.verify(token)).subject == "user-1"
    clock.now -= 60
    assert rejection(SharedSecretVerifier(SECRET, clock=clock), token) == "token is not yet valid"
    assert rejection(verifier, token) == "token is not yet valid"
    clock.now += 60
    assert run(verifier.verify(token)).subject == "user-1"


def test_a_cached_jwks_token_is_refused_before_its_nbf_when_the_clock_steps_back() -> None:
    key, clock = Ed25519Key.generate("k1"), FakeClock(float(NOW))
    token = key.sign(claims(iat=NOW - 10, nbf=NOW - 10, exp=NOW + 600))
    verifier = JwksVerifier(
        URL,
        transport=publishing(key),
        clock=clock,
    )
    assert run(verifier.verify(token)).subject == "user-1"
    clock.now -= 60
    assert rejection(verifier, token) == "token is not yet valid"
    run(verifier.aclose())


# --- defaults ------------------------------------------------------------------------------


def test_the_shared_secret_verifier_allows_five_seconds_of_clock_skew_by_default() -> None:
    verifier = SharedSecretVerifier(SECRET, clock=FakeClock(float(NOW)))
    assert run(verifier.verify(hs256(claims(iat=NOW, exp=NOW - 4)))).expires_at == NOW - 4
    assert rejection(verifier, hs256(claims(iat=NOW, exp=NOW - 5))) == "token has expired"
    assert run(verifier.verify(hs256(claims(iat=NOW, exp=NOW + 60, nbf=NOW + 5)))).subject
    too_early = hs256(claims(iat=NOW, exp=NOW + 60, nbf=NOW + 6))
    assert rejection(verifier, too_early) == "token is not yet valid"


def test_the_jwks_verifier_allows_five_seconds_of_clock_skew_by_default() -> None:
    key = Ed25519Key.generate("k1")
    verifier = JwksVerifier(
        URL,
        transport=publishing(key),
        clock=FakeClock(float(NOW)),
    )
    assert run(verifier.verify(key.sign(claims(iat=NOW, exp=NOW - 4)))).expires_at == NOW - 4
    assert rejection(verifier, key.sign(claims(iat=NOW, exp=NOW - 5))) == "token has expired"
    too_early = key.sign(claims(iat=NOW, exp=NOW + 60, nbf=NOW + 6))
    assert rejection(verifier, too_early) == "token is not yet valid"
    run(verifier.aclose())


def test_an_unknown_key_waits_half_a_second_after_the_last_fetch_by_default() -> None:
    """A token naming a key the last fetch did not bring waits for the next fetch slot,
    0.5 s after the last fetch began."""
    key, unknown, clock = Ed25519Key.generate("k1"), Ed25519Key.generate("k2"), FakeClock(1000.0)
    fetches: list[float] = []

    def serve(_request: httpx.Request) -> httpx.Response:
        fetches.append(clock.now)
        return httpx.Response(200, json={"keys": [key.public_jwk]})

    verifier = JwksVerifier(
        URL, transport=httpx.MockTransport(serve), monotonic_clock=clock, sleep=clock.sleep
    )
    assert run(verifier.verify(key.sign(claims()))).subject == "user-1"
    clock.now += 0.25
    assert rejection(verifier, unknown.sign(claims())) == "unknown signing key"
    assert clock.slept == [0.25]
    assert fetches == [1000.0, 1000.5]
    run(verifier.aclose())
