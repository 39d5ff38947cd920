"""The JWKS cache's fetch schedule and its refusals, on a fake clock and a mock endpoint."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from backend.auth.jwks import MAX_JWKS_BYTES, JwksKeys
from tests.support.jwks import Ed25519Key, serve_silence

pytestmark = pytest.mark.anyio
URL = "https://auth.example/api/auth/jwks"
INTERVAL, TTL = 10.0, 300.0


class Endpoint:
    """A JWKS endpoint answering what it is told to, counting the requests it got."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert str(request.url) == URL
        return self.response


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def jwks_body(*keys: Ed25519Key) -> bytes:
    return json.dumps({"keys": [key.public_jwk for key in keys]}).encode()


def cache(endpoint: Endpoint, clock: Clock, ttl: float = TTL) -> JwksKeys:
    return JwksKeys(
        URL,
        ("EdDSA",),
        min_refresh_interval_seconds=INTERVAL,
        cache_ttl_seconds=ttl,
        fetch_timeout_seconds=2,
        transport=httpx.MockTransport(endpoint),
        monotonic_clock=clock,
        sleep=clock.sleep,
    )


def test_a_zero_interval_is_allowed() -> None:
    JwksKeys(
        URL,
        ("EdDSA",),
        min_refresh_interval_seconds=0,
        cache_ttl_seconds=1,
        fetch_timeout_seconds=2,
    )


@pytest.mark.parametrize(("interval", "ttl"), [(-1.0, 300.0), (10.0, 0.0), (10.0, -1.0)])
def test_intervals_must_be_positive(interval: float, ttl: float) -> None:
    with pytest.raises(ValueError, match=r"^refresh intervals must be positive$"):
        JwksKeys(
            URL,
            ("EdDSA",),
            min_refresh_interval_seconds=interval,
            cache_ttl_seconds=ttl,
            fetch_timeout_seconds=2,
        )


async def test_keys_are_stale_until_fetched_then_again_after_the_ttl() -> None:
    key, clock = Ed25519Key.generate("k1"), Clock()
    endpoint = Endpoint(httpx.Response(200, content=jwks_body(key)))
    keys = cache(endpoint, clock)
    assert keys.are_stale()
    assert keys.now() == clock.now
    await keys.refresh_if_stale()
    assert (endpoint.requests, keys.version) == (1, 1)
    assert set(keys.current.by_id) == {("k1", "EdDSA")}
    clock.now += TTL - 0.5
    assert not keys.are_stale()
    await keys.refresh_if_stale()
    assert endpoint.requests == 1
    clock.now += 0.5
    assert keys.are_stale()
    await keys.refresh_if_stale()
    assert (endpoint.requests, keys.version) == (2, 2)
    await keys.aclose()


async def test_a_fetch_asked_within_the_interval_waits_for_it_or_is_skipped() -> None:
    clock = Clock()
    endpoint = Endpoint(httpx.Response(200, content=jwks_body(Ed25519Key.generate("k1"))))
    keys = cache(endpoint, clock, ttl=1)
    await keys.refresh_for_unknown_key(clock.now)
    clock.now += 4
    # A fetch that started at or after the question settles it: no second fetch.
    await keys.refresh_for_unknown_key(clock.now - 4)
    assert endpoint.requests == 1
    await keys.refresh_for_unknown_key(clock.now)
    assert clock.slept == [INTERVAL - 4]
    assert endpoint.requests == 2
    # Stale again (the TTL is 1 s), but the last fetch is recent: no wait, and no fetch.
    clock.now += 1
    assert keys.are_stale()
    await keys.refresh_if_stale()
    assert (endpoint.requests, clock.slept) == (2, [INTERVAL - 4])
    clock.now += INTERVAL
    await keys.refresh_if_stale()
    assert endpoint.requests == 3
    await keys.aclose()


@pytest.mark.parametrize(
    ("response", "logged"),
    [
        (httpx.Response(503), "returned HTTP 503; keeping the cached keys"),
        (
            httpx.Response(302, headers={"Location": URL}),
            "returned HTTP 302; keeping the cached keys",
        ),
        (
            httpx.Response(200, content=b"not json"),
            "failed (JSONDecodeError); keeping the cached keys",
        ),
        (
            httpx.Response(200, content=b'{"keys": 1}'),
            "failed (ValueError); keeping the cached keys",
        ),
    ],
)
async def test_a_failed_fetch_keeps_the_cached_keys_and_says_why(
    response: httpx.Response, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    endpoint = Endpoint(httpx.Response(200, content=jwks_body(Ed25519Key.generate("k1"))))
    keys = cache(endpoint, clock)
    await keys.refresh_if_stale()
    before = keys.current
    endpoint.response = response
    clock.now += TTL
    with caplog.at_level(logging.WARNING, logger="backend.auth.jwks"):
        await keys.refresh_if_stale()
    assert keys.current is before
    assert (endpoint.requests, keys.version) == (2, 1)
    assert [record.getMessage() for record in caplog.records] == [f"JWKS fetch from {URL} {logged}"]
    await keys.aclose()


async def test_a_fetch_the_endpoint_never_answers_gives_up_at_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hanging endpoint costs one timeout, not a request stuck for good: the deadline
    (well under httpx's own 5 s default) fails the test if the timeout is not applied."""
    with serve_silence() as url:
        keys = JwksKeys(
            url,
            ("EdDSA",),
            min_refresh_interval_seconds=INTERVAL,
            cache_ttl_seconds=TTL,
            fetch_timeout_seconds=0.1,
        )
        with caplog.at_level(logging.WARNING, logger="backend.auth.jwks"), anyio.fail_after(3):
            await keys.refresh_if_stale()
        await keys.aclose()
    assert [record.getMessage() for record in caplog.records] == [
        f"JWKS fetch from {url} failed (ReadTimeout); keeping the cached keys"
    ]
    assert (keys.version, keys.are_stale()) == (0, True)


async def test_a_document_larger_than_the_limit_is_refused() -> None:
    clock, key = Clock(), Ed25519Key.generate("k1")
    body = jwks_body(key)
    at_limit = body[:-1] + b" " * (MAX_JWKS_BYTES - len(body)) + b"}"
    assert len(at_limit) == MAX_JWKS_BYTES
    endpoint = Endpoint(httpx.Response(200, content=at_limit))
    keys = cache(endpoint, clock)
    await keys.refresh_if_stale()
    assert keys.version == 1
    endpoint.response = httpx.Response(200, content=at_limit[:-1] + b" }")
    clock.now += TTL
    await keys.refresh_if_stale()
    assert (endpoint.requests, keys.version) == (2, 1)
    await keys.aclose()
    await keys.aclose()


async def test_a_document_sent_in_several_chunks_is_read_whole() -> None:
    body = jwks_body(Ed25519Key.generate("k1"))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16):
            yield body[start : start + 16]

    endpoint = Endpoint(httpx.Response(200, content=chunks()))
    keys = cache(endpoint, Clock())
    await keys.refresh_if_stale()
    assert set(keys.current.by_id) == {("k1", "EdDSA")}
    await keys.aclose()
