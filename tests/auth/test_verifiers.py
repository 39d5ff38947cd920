"""Behaviour of backend.auth: shared-secret and JWKS verification, through the public API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from backend.auth import (
    MAX_TOKEN_LENGTH,
    Claims,
    JwksVerifier,
    SharedSecretVerifier,
    TokenRejected,
    TokenVerifier,
    mint_token,
)

SECRET = b"a-test-secret-that-is-32-bytes!!"
OTHER_SECRET = b"another-secret-of-32-bytes-long!"
T = TypeVar("T")


def run(coroutine: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coroutine

    return asyncio.run(wrapper())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload: dict[str, Any], secret: bytes = SECRET, **headers: Any) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def hand_signed(header: dict[str, Any], payload: Any, secret: bytes = SECRET) -> str:
    """A token assembled without PyJWT, so headers and payloads can be anything."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": "user-1", "iat": now, "exp": now + 600}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def rejection(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        run(verifier.verify(token))
    return caught.value.reason


@dataclass
class FakeClock:
    now: float

    def __call__(self) -> float:
        return self.now


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


# --- JWKS ------------------------------------------------------------------------------------


@dataclass
class JwksEndpoint:
    """What the local JWKS server serves, and how often it was asked."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    raw_body: bytes | None = None
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def body(self) -> tuple[int, bytes]:
        with self.lock:
            self.fetches += 1
            if self.raw_body is not None:
                return self.status, self.raw_body
            return self.status, json.dumps({"keys": self.keys}).encode()

    def fetch_count(self) -> int:
        with self.lock:
            return self.fetches


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    state = JwksEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = state.body()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any
    public_jwk: dict[str, Any]

    def sign(self, payload: dict[str, Any], *, with_kid: bool = True) -> str:
        headers = {"kid": self.kid} if with_kid else None
        return jwt.encode(payload, self.private_key, algorithm=self.algorithm, headers=headers)


def ed25519_key(kid: str | None = None) -> SigningKey:
    private_key = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = kid or uuid.uuid4().hex
    return SigningKey(kid, "EdDSA", private_key, {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return SigningKey("rsa-1", "RS256", private_key, {**jwk, "kid": "rsa-1"})


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return SigningKey("ec-1", "ES256", private_key, {**jwk, "kid": "ec-1"})


def jwks_verifier(endpoint: JwksEndpoint, clock: FakeClock, **options: Any) -> JwksVerifier:
    return JwksVerifier(endpoint.url, monotonic_clock=clock, **options)


async def using(verifier: JwksVerifier, body: Callable[[], Awaitable[T]]) -> T:
    try:
        return await body()
    finally:
        await verifier.aclose()


async def reason_of(verifier: JwksVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    return caught.value.reason


def test_jwks_ed25519_token_is_accepted_and_keys_are_cached(endpoint: JwksEndpoint) -> None:
    key = ed25519_key()
    endpoint.keys = [key.public_jwk]
    verifier = jwks_verifier(endpoint, FakeClock(0.0))

    async def scenario() -> None:
        first = await verifier.verify(key.sign(claims(sub="alice")))
        second = await verifier.verify(key.sign(claims(sub="bob")))
        assert (first.subject, second.subject) == ("alice", "bob")

    run(using(verifier, scenario))
    assert endpoint.fetch_count() == 1


def test_jwks_rejects_a_token_signed_by_an_unpublished_key(endpoint: JwksEndpoint) -> None:
    published, impostor = ed25519_key("k1"), ed25519_key("k1")
    endpoint.keys = [published.public_jwk]
    verifier = jwks_verifier(endpoint, FakeClock(0.0))

    async def scenario() -> None:
        assert await reason_of(verifier, impostor.sign(claims())) == (
            "signature verification failed"
        )

    run(using(verifier, scenario))


def test_jwks_key_rotation_is_picked_up_after_the_refresh_interval(
    endpoint: JwksEndpoint,
) -> None:
    old, new = ed25519_key("old"), ed25519_key("new")
    endpoint.keys = [old.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, min_refresh_interval_seconds=30)

    async def scenario() -> None:
        assert (await verifier.verify(old.sign(claims()))).subject == "user-1"
        endpoint.keys = [old.public_jwk, new.public_jwk]
        # Within the refresh interval the new kid is still unknown: no refetch is allowed.
        clock.now += 10
        assert await reason_of(verifier, new.sign(claims())) == "unknown signing key"
        assert endpoint.fetch_count() == 1
        clock.now += 25
        assert (await verifier.verify(new.sign(claims(sub="rotated")))).subject == "rotated"
        assert endpoint.fetch_count() == 2
        assert (await verifier.verify(old.sign(claims(sub="still-old")))).subject == "still-old"

    run(using(verifier, scenario))


def test_jwks_cache_ttl_triggers_a_refetch_and_withdrawn_keys_stop_working(
    endpoint: JwksEndpoint,
) -> None:
    old, new = ed25519_key("old"), ed25519_key("new")
    endpoint.keys = [old.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, cache_ttl_seconds=300)
    token = old.sign(claims())

    async def scenario() -> None:
        assert (await verifier.verify(token)).subject == "user-1"
        endpoint.keys = [new.public_jwk]
        clock.now += 301
        assert await reason_of(verifier, token) == "unknown signing key"
        assert (await verifier.verify(new.sign(claims()))).subject == "user-1"

    run(using(verifier, scenario))
    assert endpoint.fetch_count() == 2


@pytest.mark.parametrize(
    "strange_kids",
    [
        [uuid.uuid4().hex for _ in range(50)],
        ["../../etc/passwd", "' OR 1=1 --", "%00", "a\\b", "<script>", "{}", "\u202e"] * 7 + ["x"],
    ],
    ids=["random", "path-and-sql"],
)
def test_jwks_burst_of_unknown_kids_shares_one_refetch(
    endpoint: JwksEndpoint, strange_kids: list[str]
) -> None:
    known = ed25519_key("known")
    endpoint.keys = [known.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, min_refresh_interval_seconds=30)
    forged = [
        jwt.encode(claims(), known.private_key, algorithm="EdDSA", headers={"kid": kid})
        for kid in strange_kids
    ]

    async def scenario() -> list[BaseException | Claims]:
        await verifier.verify(known.sign(claims()))
        clock.now += 31  # a refresh is now permitted, but only one
        return await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)

    results = run(using(verifier, scenario))
    assert len(results) == len(strange_kids)
    assert all(isinstance(r, TokenRejected) and r.reason == "unknown signing key" for r in results)
    assert endpoint.fetch_count() == 2


def test_jwks_concurrent_requests_for_a_rotated_key_wait_for_one_shared_fetch(
    endpoint: JwksEndpoint,
) -> None:
    old, new = ed25519_key("old"), ed25519_key("new")
    endpoint.keys = [old.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock)
    tokens = [new.sign(claims(sub=f"user-{index}")) for index in range(50)]

    async def scenario() -> list[Claims]:
        await verifier.verify(old.sign(claims()))
        endpoint.keys = [old.public_jwk, new.public_jwk]
        clock.now += 31
        return await asyncio.gather(*(verifier.verify(token) for token in tokens))

    results = run(using(verifier, scenario))
    assert [result.subject for result in results] == [f"user-{index}" for index in range(50)]
    assert endpoint.fetch_count() == 2


def test_jwks_endpoint_failure_keeps_serving_cached_keys(endpoint: JwksEndpoint) -> None:
    key = ed25519_key("k1")
    endpoint.keys = [key.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, cache_ttl_seconds=60)

    async def scenario() -> None:
        assert (await verifier.verify(key.sign(claims(sub="before")))).subject == "before"
        for status, body in (
            (500, b"oops"),
            (200, b"not json"),
            (200, b'{"keys": 3}'),
            (200, b"[]"),
            (200, b'{"keys": [{"kty": "OKP"}]}'),
        ):
            endpoint.status, endpoint.raw_body = status, body
            clock.now += 61
            assert (await verifier.verify(key.sign(claims(sub="during")))).subject == "during"
            unknown = jwt.encode(
                claims(), key.private_key, algorithm="EdDSA", headers={"kid": "nope"}
            )
            assert await reason_of(verifier, unknown) == "unknown signing key"

    run(using(verifier, scenario))
    assert endpoint.fetch_count() == 6  # one per TTL expiry, no extra fetches for "nope"


def test_jwks_unreachable_from_the_start_rejects_tokens_cleanly() -> None:
    key = ed25519_key()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    verifier = JwksVerifier("http://127.0.0.1:9/jwks", transport=httpx.MockTransport(refuse))

    async def scenario() -> None:
        assert await reason_of(verifier, key.sign(claims())) == "unknown signing key"

    run(using(verifier, scenario))


def test_jwks_token_without_kid_needs_exactly_one_usable_key(endpoint: JwksEndpoint) -> None:
    only, other = ed25519_key(), ed25519_key()
    endpoint.keys = [only.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, cache_ttl_seconds=60)

    async def scenario() -> None:
        assert (await verifier.verify(only.sign(claims(), with_kid=False))).subject == "user-1"
        endpoint.keys = [only.public_jwk, other.public_jwk]
        clock.now += 61
        token = only.sign(claims(sub="again"), with_kid=False)
        assert await reason_of(verifier, token) == "unknown signing key"

    run(using(verifier, scenario))


def test_jwks_ignores_keys_for_unconfigured_algorithms_and_private_keys(
    endpoint: JwksEndpoint, rsa_key: SigningKey
) -> None:
    published = ed25519_key("ed")
    private_jwk = {**OKPAlgorithm.to_jwk(published.private_key, as_dict=True), "kid": "ed-private"}
    endpoint.keys = [
        rsa_key.public_jwk,
        published.public_jwk,
        private_jwk,
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
    ]
    verifier = jwks_verifier(endpoint, FakeClock(0.0))  # EdDSA only

    async def scenario() -> None:
        assert await reason_of(verifier, rsa_key.sign(claims())) == "token algorithm is not allowed"
        # The RSA key makes two published keys, but only one is usable for EdDSA.
        assert (await verifier.verify(published.sign(claims(), with_kid=False))).subject == "user-1"
        signed_with_private_kid = jwt.encode(
            claims(), published.private_key, algorithm="EdDSA", headers={"kid": "ed-private"}
        )
        assert await reason_of(verifier, signed_with_private_kid) == "unknown signing key"

    run(using(verifier, scenario))


def test_jwks_rs256_and_es256_when_configured(
    endpoint: JwksEndpoint, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    ed = ed25519_key("ed")
    endpoint.keys = [rsa_key.public_jwk, ec_key.public_jwk, ed.public_jwk]
    verifier = jwks_verifier(endpoint, FakeClock(0.0), algorithms=("RS256", "ES256"))

    async def scenario() -> None:
        assert (await verifier.verify(rsa_key.sign(claims(sub="rsa")))).subject == "rsa"
        assert (await verifier.verify(ec_key.sign(claims(sub="ec")))).subject == "ec"
        assert await reason_of(verifier, ed.sign(claims())) == "token algorithm is not allowed"
        # An ES256 header pointing at the RSA key's kid finds no ES256 key under that kid.
        mismatched = jwt.encode(
            claims(), ec_key.private_key, algorithm="ES256", headers={"kid": rsa_key.kid}
        )
        assert await reason_of(verifier, mismatched) == "unknown signing key"

    run(using(verifier, scenario))


def test_jwks_rejects_hs256_signed_with_the_public_key(
    endpoint: JwksEndpoint, rsa_key: SigningKey
) -> None:
    ed = ed25519_key("ed")
    endpoint.keys = [ed.public_jwk, rsa_key.public_jwk]
    verifier = jwks_verifier(endpoint, FakeClock(0.0), algorithms=("EdDSA", "RS256"))
    rsa_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ed_raw = ed.private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    async def scenario() -> None:
        for kid, public_bytes in ((rsa_key.kid, rsa_pem), (ed.kid, ed_raw)):
            confused = hand_signed({"alg": "HS256", "kid": kid}, claims(), secret=public_bytes)
            assert await reason_of(verifier, confused) == "token algorithm is not allowed"

    run(using(verifier, scenario))
    assert endpoint.fetch_count() == 0  # rejected on the header alone


def test_jwks_applies_the_same_claim_rules(endpoint: JwksEndpoint) -> None:
    key = ed25519_key("k1")
    endpoint.keys = [key.public_jwk]
    verifier = jwks_verifier(
        endpoint, FakeClock(0.0), issuer="https://auth.test", audience="https://auth.test"
    )
    good = claims(iss="https://auth.test", aud="https://auth.test")

    async def scenario() -> None:
        assert (await verifier.verify(key.sign(good))).subject == "user-1"
        assert await reason_of(verifier, key.sign({**good, "exp": int(time.time()) - 60})) == (
            "token has expired"
        )
        assert await reason_of(verifier, key.sign({**good, "sub": ""})) == (
            "token subject is missing or not a string"
        )
        assert await reason_of(verifier, key.sign({**good, "aud": "elsewhere"})) == (
            "token audience is not accepted"
        )
        assert await reason_of(verifier, "a" * (MAX_TOKEN_LENGTH + 1)) == "token is too large"

    run(using(verifier, scenario))


@pytest.mark.parametrize("algorithms", [("HS256",), ("EdDSA", "HS512"), ("none",), ()])
def test_jwks_verifier_refuses_hmac_or_unknown_algorithms(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        JwksVerifier("http://127.0.0.1:9/jwks", algorithms=algorithms)


def test_verified_token_cache_is_bounded_and_least_recently_used() -> None:
    # Internal, but the bound is what keeps memory flat under a flood of valid tokens.
    from backend.auth import _Verified, _VerifiedTokenCache

    cache = _VerifiedTokenCache(capacity=3)
    now = time.time()
    for name in ("a", "b", "c"):
        cache.put(name, _Verified(Claims(subject=name, expires_at=int(now) + 60), None))
    assert cache.get("a", now, 5.0) is not None  # "a" is now the most recently used
    cache.put("d", _Verified(Claims(subject="d", expires_at=int(now) + 60), None))
    assert cache.get("b", now, 5.0) is None
    assert [cache.get(name, now, 5.0) is not None for name in ("a", "c", "d")] == [True] * 3
