"""The app in JWKS mode, as Better Auth deploys it: EdDSA tokens checked against a live JWKS URL.

The JWKS is served by a real HTTP server on 127.0.0.1, so the app fetches, caches and
refreshes keys exactly as it would against a Better Auth deployment. Runs on both databases.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import jwt
import pytest

from backend.auth.tokens import mint_token
from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET, new_owner
from tests.support.jwks import Ed25519Key, JwksEndpoint, serve_jwks

pytestmark = pytest.mark.anyio

ROTATION_DEADLINE_SECONDS = 1.0
RANDOM_KIDS = 1000
BETTER_AUTH_URL = "http://localhost:3000"
"""Better Auth's JWT plugin uses its base URL as both issuer and audience by default."""


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


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    with serve_jwks() as served:
        yield served


@pytest.fixture
def signing_key(endpoint: JwksEndpoint) -> Ed25519Key:
    key = Ed25519Key.generate()
    endpoint.publish(key)
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


@pytest.fixture
async def default_client(
    jwks_settings: Settings, signing_key: Ed25519Key
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with the default JWKS refresh interval; the keys already fetched."""
    interval = Settings.model_fields["jwks_min_refresh_seconds"].default
    app = create_app(jwks_settings.model_copy(update={"jwks_min_refresh_seconds": interval}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            owner = new_owner()
            warm = bearer(signing_key.sign(better_auth_claims(owner)))
            assert (await client.get(f"/api/{owner}/tasks", headers=warm)).status_code == 200
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
    client: httpx.AsyncClient, signing_key: Ed25519Key, endpoint: JwksEndpoint
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
    assert endpoint.fetches == 1  # the keys are cached, not fetched per request


async def test_another_users_valid_token_is_403(
    client: httpx.AsyncClient, signing_key: Ed25519Key
) -> None:
    owner, intruder = new_owner(), new_owner()
    response = await client.get(
        f"/api/{owner}/tasks", headers=bearer(signing_key.sign(better_auth_claims(intruder)))
    )
    assert response.status_code == 403


async def test_key_rotation_is_picked_up_and_the_withdrawn_key_stops_working(
    client: httpx.AsyncClient, signing_key: Ed25519Key, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    path = f"/api/{owner}/tasks"
    before = await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    assert before.status_code == 200

    rotated = Ed25519Key.generate()
    endpoint.publish(rotated)
    # The first request with the new key is accepted: it waits for the next fetch.
    response = await client.get(path, headers=bearer(rotated.sign(better_auth_claims(owner))))
    assert response.status_code == 200, response.text
    assert response.json() == []
    assert endpoint.fetches == 2

    withdrawn = await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    assert rejection(withdrawn) == "unknown signing key"


async def test_both_keys_work_while_the_endpoint_publishes_both(
    client: httpx.AsyncClient, signing_key: Ed25519Key, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    path = f"/api/{owner}/tasks"
    assert (
        await client.get(path, headers=bearer(signing_key.sign(better_auth_claims(owner))))
    ).status_code == 200
    rotated = Ed25519Key.generate()
    endpoint.publish(signing_key, rotated)
    new_token = bearer(rotated.sign(better_auth_claims(owner)))
    assert (await client.get(path, headers=new_token)).status_code == 200
    old_token = bearer(signing_key.sign(better_auth_claims(owner)))
    assert (await client.get(path, headers=old_token)).status_code == 200


async def test_a_key_published_a_moment_ago_is_accepted_within_a_second(
    default_client: httpx.AsyncClient, signing_key: Ed25519Key, endpoint: JwksEndpoint
) -> None:
    """Better Auth publishes a key as it signs the first token with it (a rotation)."""
    owner = new_owner()
    rotated = Ed25519Key.generate()
    endpoint.publish(signing_key, rotated)
    token = bearer(rotated.sign(better_auth_claims(owner)))
    with anyio.fail_after(ROTATION_DEADLINE_SECONDS):
        created = await default_client.post(
            f"/api/{owner}/tasks", json={"title": "new key"}, headers=token
        )
    assert created.status_code == 201, created.text
    assert endpoint.fetches == 2


async def test_a_thousand_random_kids_cost_at_most_one_fetch_per_interval(
    default_client: httpx.AsyncClient, signing_key: Ed25519Key, endpoint: JwksEndpoint
) -> None:
    owner = new_owner()
    claims = better_auth_claims(owner)
    forged = [signing_key.sign(claims, kid=uuid.uuid4().hex) for _ in range(RANDOM_KIDS)]
    path = f"/api/{owner}/tasks"
    interval = Settings.model_fields["jwks_min_refresh_seconds"].default
    started = time.monotonic()
    responses = await asyncio.gather(
        *(default_client.get(path, headers=bearer(token)) for token in forged)
    )
    elapsed = time.monotonic() - started
    assert {rejection(response) for response in responses} == {"unknown signing key"}
    # After the first load: at most 1 + T / interval fetches in T seconds (one when the
    # thousand arrive within one interval, as they do on an idle machine).
    assert 2 <= endpoint.fetches <= 2 + elapsed / interval


async def test_unknown_kid_is_401(client: httpx.AsyncClient, signing_key: Ed25519Key) -> None:
    owner = new_owner()
    unknown = signing_key.sign(better_auth_claims(owner), kid="not-a-published-kid")
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "x"}, headers=bearer(unknown)
    )
    assert rejection(response) == "unknown signing key"


async def test_unpublished_key_with_a_published_kid_is_401(
    client: httpx.AsyncClient, signing_key: Ed25519Key
) -> None:
    owner = new_owner()
    impostor = Ed25519Key.generate()
    forged = impostor.sign(better_auth_claims(owner), kid=signing_key.kid)
    response = await client.get(f"/api/{owner}/tasks", headers=bearer(forged))
    assert rejection(response) == "signature verification failed"


async def test_shared_secret_hs256_token_is_401_in_jwks_mode(
    client: httpx.AsyncClient, signing_key: Ed25519Key
) -> None:
    owner = new_owner()
    token = mint_token(owner, SECRET.encode(), issuer=BETTER_AUTH_URL, audience=BETTER_AUTH_URL)
    response = await client.get(f"/api/{owner}/tasks", headers=bearer(token))
    assert rejection(response) == "token algorithm is not allowed"


async def test_hs256_token_keyed_with_the_public_key_is_401(
    client: httpx.AsyncClient, signing_key: Ed25519Key
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
    client: httpx.AsyncClient, signing_key: Ed25519Key, claims: dict[str, Any], reason: str
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
