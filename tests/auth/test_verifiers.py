"""Behaviour of backend.auth.tokens in shared-secret mode, through the public API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.auth.tokens import (
    ASYMMETRIC_ALGORITHMS,
    MAX_TOKEN_LENGTH,
    Claims,
    JwksVerifier,
    SharedSecretVerifier,
    TokenRejected,
    mint_token,
)
from tests.auth.tokens import (
    OTHER_SECRET,
    SECRET,
    FakeClock,
    b64url,
    claims,
    hand_signed,
    hs256,
    rejection,
    run,
)
from tests.support.jwks import Ed25519Key

# --- shared secret -------------------------------------------------------------------------


def test_valid_hs256_token_is_accepted() -> None:
    payload = claims(sub="user-42")
    result = run(SharedSecretVerifier(SECRET).verify(hs256(payload)))
    assert result == Claims(subject="user-42", expires_at=payload["exp"])


def test_minted_token_round_trips_with_issuer_and_audience() -> None:
    verifier = SharedSecretVerifier(SECRET, issuer="https://auth.test", audience="todo-api")
    token = mint_token(
        "user-7", SECRET, expires_in_seconds=60, issuer="https://auth.test", audience="todo-api"
    )
    result = run(verifier.verify(token))
    assert result.subject == "user-7"
    assert abs(result.expires_at - (time.time() + 60)) < 5


def test_wrong_secret_is_rejected() -> None:
    token = hs256(claims(), secret=OTHER_SECRET)
    assert rejection(SharedSecretVerifier(SECRET), token) == "signature verification failed"


def test_edited_payload_is_rejected() -> None:
    header, _, signature = hs256(claims(sub="alice")).split(".")
    forged_payload = b64url(json.dumps(claims(sub="admin")).encode())
    forged = f"{header}.{forged_payload}.{signature}"
    assert rejection(SharedSecretVerifier(SECRET), forged) == "signature verification failed"


@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"])
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected(alg: str, signature: str) -> None:
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    token = f"{header}.{payload}.{signature}"
    assert rejection(SharedSecretVerifier(SECRET), token) == "token algorithm is not allowed"


def test_algorithm_outside_the_configured_list_is_rejected() -> None:
    long_secret = SECRET * 2
    token = jwt.encode(claims(), long_secret, algorithm="HS512")
    verifier = SharedSecretVerifier(long_secret, algorithms=("HS256",))
    assert rejection(verifier, token) == "token algorithm is not allowed"
    both = SharedSecretVerifier(long_secret, algorithms=("HS256", "HS512"))
    assert run(both.verify(token)).subject == "user-1"


def test_missing_alg_header_is_rejected() -> None:
    token = hand_signed({"typ": "JWT"}, claims())
    assert rejection(SharedSecretVerifier(SECRET), token) == "token algorithm is not allowed"


def test_expired_token_is_rejected_but_leeway_is_honoured() -> None:
    now = int(time.time())
    verifier = SharedSecretVerifier(SECRET, leeway_seconds=5)
    expired = hs256(claims(exp=now - 60))
    assert rejection(verifier, expired) == "token has expired"
    within_leeway = hs256(claims(exp=now - 2))
    assert run(verifier.verify(within_leeway)).subject == "user-1"


def test_not_before_in_the_future_is_rejected() -> None:
    now = int(time.time())
    verifier = SharedSecretVerifier(SECRET)
    assert rejection(verifier, hs256(claims(nbf=now + 120))) == "token is not yet valid"
    assert run(verifier.verify(hs256(claims(nbf=now - 1)))).subject == "user-1"


def test_missing_exp_is_rejected() -> None:
    token = hs256(claims(exp=...))
    assert rejection(SharedSecretVerifier(SECRET), token) == (
        "token is missing the required 'exp' claim"
    )


@pytest.mark.parametrize("value", ["9999999999", True, [1], {"a": 1}, None])
def test_exp_that_is_not_a_number_is_rejected(value: Any) -> None:
    reason = rejection(
        SharedSecretVerifier(SECRET), hand_signed({"alg": "HS256"}, claims(exp=value))
    )
    assert reason in {
        "token 'exp' claim is not a number",
        "token is missing the required 'exp' claim",
    }


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_malformed_time_claims_are_rejected(claim: str) -> None:
    token = hand_signed({"alg": "HS256"}, claims(**{claim: "yesterday"}))
    assert (
        rejection(SharedSecretVerifier(SECRET), token) == f"token '{claim}' claim is not a number"
    )


def test_fractional_exp_is_accepted_and_truncated() -> None:
    exp = time.time() + 300.75
    result = run(
        SharedSecretVerifier(SECRET).verify(hand_signed({"alg": "HS256"}, claims(exp=exp)))
    )
    assert result.expires_at == int(exp)


@pytest.mark.parametrize("subject", [..., "", "   ", None, 123, ["user-1"], {"id": "user-1"}])
def test_missing_empty_or_non_string_subject_is_rejected(subject: Any) -> None:
    token = hand_signed({"alg": "HS256"}, claims(sub=subject))
    reason = rejection(SharedSecretVerifier(SECRET), token)
    assert reason == "token subject is missing or not a string"


def test_issuer_is_checked_only_when_configured() -> None:
    verifier = SharedSecretVerifier(SECRET, issuer="https://auth.test")
    good = hs256(claims(iss="https://auth.test"))
    assert run(verifier.verify(good)).subject == "user-1"
    assert rejection(verifier, hs256(claims(iss="https://evil.test"))) == (
        "token issuer is not accepted"
    )
    assert rejection(verifier, hs256(claims())) == "token is missing the required 'iss' claim"
    unconfigured = SharedSecretVerifier(SECRET)
    assert run(unconfigured.verify(hs256(claims(iss="https://anything.test")))).subject == "user-1"


def test_audience_is_checked_only_when_configured() -> None:
    verifier = SharedSecretVerifier(SECRET, audience="todo-api")
    assert run(verifier.verify(hs256(claims(aud="todo-api")))).subject == "user-1"
    assert run(verifier.verify(hs256(claims(aud=["other", "todo-api"])))).subject == "user-1"
    assert rejection(verifier, hs256(claims(aud="other-api"))) == "token audience is not accepted"
    assert rejection(verifier, hs256(claims())) == "token is missing the required 'aud' claim"
    unconfigured = SharedSecretVerifier(SECRET)
    assert run(unconfigured.verify(hs256(claims(aud="whatever")))).subject == "user-1"


def test_oversized_token_is_rejected_before_parsing() -> None:
    verifier = SharedSecretVerifier(SECRET)
    padded = hs256(claims(padding="x" * MAX_TOKEN_LENGTH))
    assert rejection(verifier, padded) == "token is too large"
    assert rejection(verifier, "a" * (MAX_TOKEN_LENGTH + 1)) == "token is too large"


def _segment(data: bytes) -> str:
    return b64url(data)


def _compact(header: bytes, payload: bytes, signature: str = _segment(b"sig")) -> str:
    return f"{_segment(header)}.{_segment(payload)}.{signature}"


HS256_HEADER = b'{"alg":"HS256"}'
GARBAGE = [
    "",
    "abc",
    "a.b",
    "a.b.c.d",
    "a.b.c.d.e",
    "....",
    "a.b.c",  # one-character segments are not valid base64url
    "Bearer x.y.z",
    "\u00e9.a.b",
    "\x00.\x00.\x00",
    "\ud800.a.b",  # a lone surrogate cannot even be encoded as UTF-8
    _compact(b"not json", b"{}"),
    _compact(b"[1,2]", b"{}"),
    _compact(HS256_HEADER, b"not json"),
    _compact(HS256_HEADER, b"[1]"),
    _compact(HS256_HEADER, b"{}") + "=",
    _compact(HS256_HEADER, bytes([0xFF, 0xFE])),
    _compact(b'{"alg":["HS256"]}', b"{}"),
    _compact(b'{"alg":"HS256","kid":7}', b"{}"),
    _compact(b'{"alg":"HS256","crit":["exp"],"exp":1}', b"{}", ""),
    _segment(b'{"alg":"HS256","b64":false,"crit":["b64"]}') + "..c2ln",
    _compact(b"[" * 3000, b"{}"),
    _compact(HS256_HEADER, b"[" * 3000),
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_rejected_with_token_rejected_only(token: str) -> None:
    reason = rejection(SharedSecretVerifier(SECRET), token)
    assert reason  # a reason exists, and it never echoes the input
    if len(token) > 6:
        assert token not in reason


def test_truncated_and_whitespace_wrapped_tokens_are_rejected() -> None:
    verifier = SharedSecretVerifier(SECRET)
    token = hs256(claims())
    for broken in (token[:-1], token[:-10], token + "\n", " " + token, token + ".x"):
        rejection(verifier, broken)


def test_non_finite_and_huge_numbers_are_rejected() -> None:
    verifier = SharedSecretVerifier(SECRET)
    header = _segment(b'{"alg":"HS256"}')
    for raw in (
        b'{"sub":"u","exp":1e400}',
        b'{"sub":"u","exp":NaN}',
        b'{"sub":"u","exp":-Infinity}',
    ):
        signing_input = f"{header}.{_segment(raw)}"
        signature = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
        rejection(verifier, f"{signing_input}.{b64url(signature)}")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_.=-]{0,200}", fullmatch=True))
def test_arbitrary_text_only_ever_raises_token_rejected(token: str) -> None:
    rejection(SharedSecretVerifier(SECRET), token)


@pytest.mark.parametrize(
    ("algorithms", "secret"),
    [
        (("RS256",), SECRET),
        (("none",), SECRET),
        ((), SECRET),
        (("HS256", "EdDSA"), SECRET),
        (("HS256",), b"short"),
        (("HS512",), SECRET),
    ],
)
def test_shared_secret_verifier_refuses_bad_configuration(
    algorithms: tuple[str, ...], secret: bytes
) -> None:
    with pytest.raises(ValueError):
        SharedSecretVerifier(secret, algorithms=algorithms)


def test_cached_token_is_rechecked_against_the_clock() -> None:
    clock = FakeClock(time.time())
    verifier = SharedSecretVerifier(SECRET, clock=clock)
    token = hs256(claims(exp=int(clock.now) + 60))
    assert run(verifier.verify(token)).subject == "user-1"
    assert run(verifier.verify(token)).subject == "user-1"  # served from the cache
    clock.now += 120
    assert rejection(verifier, token) == "token has expired"


def test_mint_token_refuses_weak_input() -> None:
    with pytest.raises(ValueError):
        mint_token("user-1", b"short")
    with pytest.raises(ValueError):
        mint_token("", SECRET)


def test_asymmetric_token_is_rejected_by_the_shared_secret_verifier() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode(claims(), private_key, algorithm="EdDSA")
    assert rejection(SharedSecretVerifier(SECRET), token) == "token algorithm is not allowed"


def test_verified_token_cache_is_bounded_and_least_recently_used() -> None:
    # Internal, but the bound is what keeps memory flat under a flood of valid tokens.
    from backend.auth.tokens import _Verified, _VerifiedTokenCache

    cache = _VerifiedTokenCache(capacity=3)
    now = time.time()
    for name in ("a", "b", "c"):
        cache.put(name, _Verified(Claims(subject=name, expires_at=int(now) + 60), None))
    assert cache.get("a", now, 5.0) is not None  # "a" is now the most recently used
    cache.put("d", _Verified(Claims(subject="d", expires_at=int(now) + 60), None))
    assert cache.get("b", now, 5.0) is None
    assert [cache.get(name, now, 5.0) is not None for name in ("a", "c", "d")] == [True] * 3


# --- JWKS, on a mock endpoint and fake clocks (the live endpoint: test_jwks.py) -------------


class MockJwks:
    """The keys a JWKS URL publishes, and how often it was fetched."""

    def __init__(self, *keys: Ed25519Key) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self, _request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": [key.public_jwk for key in self.keys]})


def jwks_verifier(published: MockJwks, clock: FakeClock, **options: Any) -> JwksVerifier:
    return JwksVerifier(
        "https://auth.example/jwks",
        transport=httpx.MockTransport(published),
        clock=clock,
        monotonic_clock=clock,
        sleep=clock.sleep,
        min_refresh_interval_seconds=10,
        cache_ttl_seconds=300,
        **options,
    )


def test_jwks_token_is_accepted_then_served_from_the_cache() -> None:
    key, clock = Ed25519Key.generate(), FakeClock(time.time())
    published = MockJwks(key)
    verifier = jwks_verifier(published, clock, issuer="https://auth.example", audience="todo")
    token = key.sign(claims(iss="https://auth.example", aud="todo"))
    assert run(verifier.verify(token)).subject == "user-1"
    assert run(verifier.verify(token)).subject == "user-1"
    assert published.fetches == 1
    assert (
        rejection(verifier, key.sign(claims(iss="https://auth.example", aud="other")))
        == "token audience is not accepted"
    )
    assert (
        rejection(
            verifier,
            key.sign(claims(iss="https://auth.example", aud="todo", exp=int(clock.now) - 60)),
        )
        == "token has expired"
    )
    run(verifier.aclose())


def test_jwks_unknown_key_waits_for_one_fetch_then_is_refused_or_accepted() -> None:
    old, new, clock = Ed25519Key.generate("old"), Ed25519Key.generate("new"), FakeClock(1000.0)
    clock.now = time.time()
    published = MockJwks(old)
    verifier = jwks_verifier(published, clock)
    run(verifier.verify(old.sign(claims())))
    clock.now += 4
    assert rejection(verifier, new.sign(claims())) == "unknown signing key"
    assert (published.fetches, clock.slept) == (2, [6])
    published.keys.append(new)
    clock.now += 10
    assert run(verifier.verify(new.sign(claims()))).subject == "user-1"
    assert published.fetches == 3
    run(verifier.aclose())


def test_jwks_token_of_a_withdrawn_key_is_refused_after_the_next_fetch() -> None:
    key, other, clock = Ed25519Key.generate("k"), Ed25519Key.generate("o"), FakeClock(0.0)
    clock.now = time.time()
    published = MockJwks(key, other)
    verifier = jwks_verifier(published, clock)
    token = key.sign(claims(exp=int(clock.now) + 3600))
    run(verifier.verify(token))
    published.keys.remove(key)
    clock.now += 300
    assert rejection(verifier, token) == "unknown signing key"
    run(verifier.aclose())


def test_jwks_refuses_other_algorithms_and_unreadable_headers() -> None:
    key, clock = Ed25519Key.generate(), FakeClock(time.time())
    verifier = jwks_verifier(MockJwks(key), clock)
    assert rejection(verifier, hs256(claims())) == "token algorithm is not allowed"
    unreadable = "bm90IGpzb24." + key.sign(claims()).split(".", 1)[1]
    assert rejection(verifier, unreadable) == "token is not a JWT"
    with pytest.raises(ValueError, match="JwksVerifier"):
        JwksVerifier("https://auth.example/jwks", algorithms=("HS256",))
    run(verifier.aclose())


def test_refusals_and_configuration_errors_say_exactly_what_is_wrong() -> None:
    verifier = SharedSecretVerifier(SECRET)
    assert rejection(verifier, "a" * MAX_TOKEN_LENGTH) == "token is not a JWT"  # not too large
    assert rejection(verifier, 5) == "token is not a JWT"  # type: ignore[arg-type]
    no_exp = hs256(claims(exp=...))
    assert rejection(verifier, no_exp) == "token is missing the required 'exp' claim"
    refusals: list[tuple[Callable[[], object], str]] = [
        (
            lambda: SharedSecretVerifier(SECRET, algorithms="HS256"),
            "algorithms must be a sequence of names, not a single string",
        ),
        (
            lambda: SharedSecretVerifier(SECRET, algorithms=()),
            "at least one algorithm must be configured",
        ),
        (
            lambda: JwksVerifier("https://a.example/jwks", algorithms=("HS256",)),
            f"JwksVerifier accepts only {sorted(ASYMMETRIC_ALGORITHMS)}; refused ['HS256']",
        ),
        (lambda: mint_token(" ", SECRET), "subject must be a non-empty string"),
        (
            lambda: mint_token("user-1", b"short"),
            "the shared secret must be at least 32 bytes long",
        ),
    ]
    for refuse, message in refusals:
        with pytest.raises(ValueError) as raised:
            refuse()
        assert str(raised.value) == message


def test_expiry_and_not_before_hold_up_to_the_leeway_exactly() -> None:
    clock = FakeClock(1_800_000_000.0)
    verifier = SharedSecretVerifier(SECRET, leeway_seconds=5, clock=clock)
    now = int(clock.now)
    assert rejection(verifier, hs256(claims(iat=now, exp=now - 5))) == "token has expired"
    assert run(verifier.verify(hs256(claims(iat=now, exp=now - 4)))).expires_at == now - 4
    assert run(verifier.verify(hs256(claims(iat=now, exp=now + 60, nbf=now + 5)))).subject
    too_early = hs256(claims(iat=now, exp=now + 60, nbf=now + 6))
    assert rejection(verifier, too_early) == "token is not yet valid"


def test_a_minted_token_lasts_an_hour_from_its_issue() -> None:
    token = mint_token("user-1", SECRET)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert payload["exp"] - payload["iat"] == 3600
    assert abs(payload["iat"] - time.time()) < 60


def test_leeway_and_secret_refusals_name_the_setting() -> None:
    SharedSecretVerifier(SECRET, leeway_seconds=0)
    SharedSecretVerifier(SECRET, leeway_seconds=0.5)
    refusals: list[tuple[Callable[[], object], str]] = [
        (
            lambda: SharedSecretVerifier(SECRET, leeway_seconds=-1),
            "leeway_seconds must not be negative",
        ),
        (
            lambda: SharedSecretVerifier(SECRET, algorithms=("RS256",)),
            "SharedSecretVerifier accepts only ['HS256', 'HS384', 'HS512']; refused ['RS256']",
        ),
        (
            lambda: SharedSecretVerifier(b"short"),
            "the shared secret must be at least 32 bytes long",
        ),
        (
            lambda: SharedSecretVerifier(SECRET, algorithms=("HS512",)),
            "the shared secret must be at least 64 bytes long",
        ),
    ]
    for refuse, message in refusals:
        with pytest.raises(ValueError) as raised:
            refuse()
        assert str(raised.value) == message
    assert str(TokenRejected("token has expired")) == "token has expired"


def test_jwks_issuer_is_checked_and_a_withdrawn_keys_cached_token_stays_refused() -> None:
    key, other, clock = Ed25519Key.generate("k"), Ed25519Key.generate("o"), FakeClock(0.0)
    clock.now = time.time()
    published = MockJwks(key, other)
    verifier = jwks_verifier(published, clock, issuer="https://auth.example")
    forged = key.sign(claims(iss="https://evil.example"))
    assert rejection(verifier, forged) == "token issuer is not accepted"
    token = key.sign(claims(iss="https://auth.example", exp=int(clock.now) + 3600))
    run(verifier.verify(token))
    published.keys.remove(key)
    clock.now += 300
    assert rejection(verifier, token) == "unknown signing key"
    assert rejection(verifier, token) == "unknown signing key"
    run(verifier.aclose())
