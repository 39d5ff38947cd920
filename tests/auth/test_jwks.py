"""Behaviour of backend.auth.tokens in JWKS mode: fetching, caching and rotating Better Auth's keys.

The JWKS is served by a real HTTP server on 127.0.0.1; the verifier's clock and its sleep are
fakes the tests move, so the fetch schedule is checked exactly and without waiting.
"""

from __future__ import annotations

import asyncio
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
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from backend.auth.tokens import MAX_TOKEN_LENGTH, Claims, JwksVerifier, TokenRejected
from tests.auth.tokens import FakeClock, SteppedClock, claims, hand_signed, run, settle

T = TypeVar("T")
RANDOM_KIDS = 1000


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
    return JwksVerifier(endpoint.url, monotonic_clock=clock, sleep=clock.sleep, **options)


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


@pytest.mark.parametrize("published_after", [0.001, 0.1, 0.49, 0.5, 7.0])
def test_jwks_a_token_of_a_just_published_key_is_accepted_at_its_first_try(
    endpoint: JwksEndpoint, published_after: float
) -> None:
    """Better Auth publishes a key when it signs the first token with it: no window of 401s."""
    old, new = ed25519_key("old"), ed25519_key("new")
    endpoint.keys = [old.public_jwk]
    clock = FakeClock(100.0)
    verifier = jwks_verifier(endpoint, clock, min_refresh_interval_seconds=0.5)

    async def scenario() -> None:
        assert (await verifier.verify(old.sign(claims()))).subject == "user-1"
        clock.now += published_after
        endpoint.keys = [old.public_jwk, new.public_jwk]
        assert (await verifier.verify(new.sign(claims(sub="rotated")))).subject == "rotated"
        assert endpoint.fetch_count() == 2
        assert (await verifier.verify(old.sign(claims(sub="still-old")))).subject == "still-old"
        assert endpoint.fetch_count() == 2

    run(using(verifier, scenario))
    # It waited for the next fetch slot only: never longer than the refresh interval.
    assert clock.slept == pytest.approx([0.5 - published_after] if published_after < 0.5 else [])


def test_jwks_a_kid_still_unknown_after_a_fetch_begun_after_the_token_arrived_is_refused(
    endpoint: JwksEndpoint,
) -> None:
    known = ed25519_key("known")
    endpoint.keys = [known.public_jwk]
    clock = FakeClock(0.0)
    verifier = jwks_verifier(endpoint, clock, min_refresh_interval_seconds=0.5)
    forged = jwt.encode(claims(), known.private_key, algorithm="EdDSA", headers={"kid": "made-up"})

    async def scenario() -> None:
        await verifier.verify(known.sign(claims()))
        clock.now += 60
        assert await reason_of(verifier, forged) == "unknown signing key"
        # At the same instant: the fetch just made settles it, no other is needed.
        assert await reason_of(verifier, forged) == "unknown signing key"
        assert endpoint.fetch_count() == 2
        # 0.1 s later: the key might have been published since, so the next fetch (in its
        # slot, 0.4 s on) is awaited, and refuses it again.
        clock.now += 0.1
        assert await reason_of(verifier, forged) == "unknown signing key"

    run(using(verifier, scenario))
    assert endpoint.fetch_count() == 3
    assert clock.slept == pytest.approx([0.4])


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
        [uuid.uuid4().hex for _ in range(RANDOM_KIDS)],
        ["../../etc/passwd", "' OR 1=1 --", "%00", "a\\b", "<script>", "{}", "\u202e"] * 7 + ["x"],
    ],
    ids=["random", "path-and-sql"],
)
def test_jwks_burst_of_unknown_kids_shares_one_refetch(
    endpoint: JwksEndpoint, strange_kids: list[str]
) -> None:
    """Tokens that arrive together wait for one fetch; it refuses them all."""
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
        clock.now += 1  # within the interval: the shared fetch waits for its slot
        return await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)

    results = run(using(verifier, scenario))
    assert len(results) == len(strange_kids)
    assert all(isinstance(r, TokenRejected) and r.reason == "unknown signing key" for r in results)
    assert endpoint.fetch_count() == 2
    assert clock.slept == [29]


def test_jwks_a_thousand_random_kids_over_ten_seconds_cost_at_most_21_fetches() -> None:
    """The stated bound: at most 1 + T / interval fetches in T seconds, whatever is sent."""
    known = ed25519_key("known")
    fetches = 0

    def serve(_request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        return httpx.Response(200, json={"keys": [known.public_jwk]})

    clock = SteppedClock()
    interval, spacing = 0.5, 10.0 / RANDOM_KIDS
    verifier = JwksVerifier(
        "http://jwks.test/api/auth/jwks",
        transport=httpx.MockTransport(serve),
        monotonic_clock=clock,
        sleep=clock.sleep,
        min_refresh_interval_seconds=interval,
    )
    forged = [
        jwt.encode(
            claims(), known.private_key, algorithm="EdDSA", headers={"kid": uuid.uuid4().hex}
        )
        for _ in range(RANDOM_KIDS)
    ]

    async def scenario() -> list[BaseException | None]:
        await verifier.verify(known.sign(claims()))
        pending = []
        for token in forged:  # one token every 10 ms, for 10 s
            pending.append(asyncio.create_task(verifier.verify(token)))
            await settle()
            clock.advance(spacing)
        for _ in range(RANDOM_KIDS):  # bounded: the last ones wait one interval at most
            if all(task.done() for task in pending):
                break
            clock.advance(spacing)
            await settle()
        return [task.exception() for task in pending]

    errors = run(using(verifier, scenario))
    assert all(isinstance(e, TokenRejected) and e.reason == "unknown signing key" for e in errors)
    assert clock.now <= 10.0 + interval + spacing
    assert fetches <= 1 + 10.0 / interval  # 21, the first (known-key) fetch included
    assert fetches >= 10  # each half second of new kids did get its own look at the JWKS


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
