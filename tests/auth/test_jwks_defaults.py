"""The JWKS verifier's defaults, which create_app relies on (docs/OPERATIONS.md): keys are
kept for 5 minutes, and a fetch asks for a 5 s timeout."""

from __future__ import annotations

import httpx

from backend.auth.tokens import JwksVerifier
from tests.auth.tokens import FakeClock, claims, run
from tests.support.jwks import Ed25519Key

URL = "https://auth.example/api/auth/jwks"


class Endpoint:
    """Serves one key; notes the timeout each request told the transport to keep."""

    def __init__(self, key: Ed25519Key) -> None:
        self.key = key
        self.timeouts: list[object] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"keys": [self.key.public_jwk]})


def test_keys_are_fetched_again_five_minutes_after_the_last_fetch() -> None:
    key, clock = Ed25519Key.generate("k1"), FakeClock(1000.0)
    endpoint = Endpoint(key)
    verifier = JwksVerifier(
        URL, transport=httpx.MockTransport(endpoint), monotonic_clock=clock, sleep=clock.sleep
    )
    assert run(verifier.verify(key.sign(claims(sub="first")))).subject == "first"
    clock.now += 299.5
    assert run(verifier.verify(key.sign(claims(sub="second")))).subject == "second"
    assert len(endpoint.timeouts) == 1
    clock.now += 0.5
    assert run(verifier.verify(key.sign(claims(sub="third")))).subject == "third"
    assert len(endpoint.timeouts) == 2
    run(verifier.aclose())


def test_a_fetch_asks_the_transport_for_a_five_second_timeout() -> None:
    """The transport enforces what it is asked for (a real one gives up on an endpoint that
    never answers: tests/auth/test_jwks_fetch.py)."""
    key = Ed25519Key.generate("k1")
    endpoint = Endpoint(key)
    verifier = JwksVerifier(URL, transport=httpx.MockTransport(endpoint))
    assert run(verifier.verify(key.sign(claims()))).subject == "user-1"
    assert endpoint.timeouts == [{"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}]
    run(verifier.aclose())
