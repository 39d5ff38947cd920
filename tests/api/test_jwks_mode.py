"""The app in JWKS mode, as Better Auth deploys it: EdDSA tokens checked against a live JWKS URL.

The JWKS is served by a real HTTP server on 127.0.0.1, so the app fetches, caches and
refreshes keys exactly as it would against a Better Auth deployment. Runs on both databases.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from backend.auth import mint_token
from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET, new_owner

pytestmark = pytest.mark.anyio

BETTER_AUTH_URL = "http://localhost:3000"
"""Better Auth's JWT plugin uses its base URL as both issuer and audience by default."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair as Better Auth's JWT plugin makes them, with its `kid`."""

    kid: str
    private_key: ed25519.Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(uuid.uuid4().hex, ed25519.Ed25519PrivateKey.generate())

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "EdDSA"}

    def sign(self, payload: dict[str, Any], *, kid: str | None = None) -> str:
        headers = {"kid": kid or self.kid, "typ": "JWT"}
        return jwt.encode(payload, self.private_key, algorithm="EdDSA", headers=headers)


def better_auth_claims(owner: str, **overrides: Any) -> dict[str, Any]:
    """The payload Better Auth's JWT plugin puts in a session token (user fields + JWT claims)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "id": owner,
        "name": "Ada Lovelace",
        "email": f"{owner}@example.com",
        "emailVerified": True,
        "image": None,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "iat": now,
        "iss": BETTER_AUTH_URL,
        "aud": BETTER_AUTH_URL,
        "exp": now + 15 * 60,
        "sub": owner,
    }
    return {**claims, **overrides}


@dataclass
class JwksEndpoint:
    """What the local JWKS server serves right now, and how often it was fetched."""

    keys: list[SigningKey] = field(default_factory=list)
    url: str = ""
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, *keys: SigningKey) -> None:
        with self.lock:
            self.keys = list(keys)

    def document(self) -> bytes:
        with self.lock:
            self.fetches += 1
            return json.dumps({"keys": [key.public_jwk for key in self.keys]}).encode()

    def fetch_count(self) -> int:
        with self.lock:
            return self.fetches


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    state = JwksEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits for the serving loop to notice it.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def signing_key(endpoint: JwksEndpoint) -> SigningKey:
    key = SigningKey.generate()
    endpoint.serve(key)
    return key


@pytest.fixture
def jwks_settings(database_url: str, endpoint: JwksEndpoint) -> Settings:
    return Settings(
        database_url=database_url,
        better_auth_jwks_url=endpoint.url,
        jwt_issuer=BETTER_AUTH_URL,
        jwt_audience=BETTER_AUTH_URL,
        jwks_min_refresh_seconds=0.05,
        migrate_on_start=False,
        _env_file=None,
    )


@pytest.fixture
async def client(jwks_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(jwks_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rejection(response: httpx.Response) -> str:
    """The error_description of a 401 with an invalid_token challenge."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="todo", error="invalid_token"')
    detail: str = response.json()["detail"]
    assert f'error_description="{detail}"' in challenge
    return detail


async def test_better_auth_token_creates_and_reads_a_task(
    client: httpx.AsyncClient, signing_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    headers = bearer(signing_key.sign(better_auth_claims(owner)))
    created = await client.post(f"/api/{owner}/tasks", json={"title": "JWKS"}, headers=headers)
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["user_id"] == owner
    fetched = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == task
    listed = await client.get(f"/api/{owner}/tasks", headers=headers)
    assert listed.json() == [task]
    assert endpoint.fetch_count() == 1  # the keys are cached, not fetched per request


async def test_another_users_valid_token_is_403(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    owner, intruder = new_owner(), new_owner()
    response = await client.get(
        f"/api/{owner}/tasks", headers=bearer(signing_key.sign(better_auth_claims(intruder)))
    )
    assert response.status_code == 403


async def test_key_rotation_is_picked_up_and_the_withdrawn_key_stops_working(
    client: httpx.AsyncClient, signing_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    path = f"/api/{owner}/tasks"
    before = await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    assert before.status_code == 200

    rotated = SigningKey.generate()
    endpoint.serve(rotated)
    new_token = bearer(rotated.sign(better_auth_claims(owner)))
    # Refetches are rate-limited (jwks_min_refresh_seconds), so poll until one is allowed.
    with anyio.fail_after(5):
        while (response := await client.get(path, headers=new_token)).status_code != 200:
            assert rejection(response) == "unknown signing key"
            await anyio.sleep(0.01)
    assert response.json() == []
    assert endpoint.fetch_count() >= 2

    withdrawn = await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    assert rejection(withdrawn) == "unknown signing key"


async def test_both_keys_work_while_the_endpoint_publishes_both(
    client: httpx.AsyncClient, signing_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    path = f"/api/{owner}/tasks"
    assert (
        await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    ).status_code == 200
    rotated = SigningKey.generate()
    endpoint.serve(signing_key, rotated)
    new_token = bearer(rotated.sign(better_auth_claims(owner)))
    with anyio.fail_after(5):
        while (await client.get(path, headers=new_token)).status_code != 200:
            await anyio.sleep(0.01)
    old_token = bearer(signing_key.sign(better_auth_claims(owner)))
    assert (await client.get(path, headers=old_token)).status_code == 200


async def test_unknown_kid_is_401(client: httpx.AsyncClient, signing_key: SigningKey) -> None:
    owner = new_owner()
    unknown = signing_key.sign(better_auth_claims(owner), kid="not-a-published-kid")
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "x"}, headers=bearer(unknown)
    )
    assert rejection(response) == "unknown signing key"


async def test_unpublished_key_with_a_published_kid_is_401(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    owner = new_owner()
    impostor = SigningKey.generate()
    forged = impostor.sign(better_auth_claims(owner), kid=signing_key.kid)
    response = await client.get(f"/api/{owner}/tasks", headers=bearer(forged))
    assert rejection(response) == "signature verification failed"


async def test_shared_secret_hs256_token_is_401_in_jwks_mode(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    owner = new_owner()
    token = mint_token(owner, SECRET.encode(), issuer=BETTER_AUTH_URL, audience=BETTER_AUTH_URL)
    response = await client.get(f"/api/{owner}/tasks", headers=bearer(token))
    assert rejection(response) == "token algorithm is not allowed"


async def test_hs256_token_keyed_with_the_public_key_is_401(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    """The classic algorithm-confusion attack: HMAC keyed with the published key."""
    owner = new_owner()
    public_key = jwt.utils.base64url_decode(signing_key.public_jwk["x"])
    token = jwt.encode(
        better_auth_claims(owner), public_key, algorithm="HS256", headers={"kid": signing_key.kid}
    )
    response = await client.get(f"/api/{owner}/tasks", headers=bearer(token))
    assert rejection(response) == "token algorithm is not allowed"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://another-app.example"}, "token audience is not accepted"),
        ({"aud": None}, "token is missing the required 'aud' claim"),
        ({"iss": "https://another-issuer.example"}, "token issuer is not accepted"),
        ({"exp": int(time.time()) - 60}, "token has expired"),
    ],
    ids=["wrong-audience", "no-audience", "wrong-issuer", "expired"],
)
async def test_claims_are_checked_as_configured(
    client: httpx.AsyncClient, signing_key: SigningKey, claims: dict[str, Any], reason: str
) -> None:
    owner = new_owner()
    payload = {
        name: value
        for name, value in better_auth_claims(owner, **claims).items()
        if value is not None or name != "aud"
    }
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "x"}, headers=bearer(signing_key.sign(payload))
    )
    assert rejection(response) == reason
    good = bearer(signing_key.sign(better_auth_claims(owner)))
    assert (await client.get(f"/api/{owner}/tasks", headers=good)).json() == []
