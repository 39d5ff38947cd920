"""CORS: the front end's origins (CORS_ORIGINS) may call every operation from a browser;
any other origin, and every origin by default, gets no CORS header at all."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from backend.contract import load_contract
from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET, make_task, new_owner, token_for

pytestmark = pytest.mark.anyio

FRONT_END = "http://localhost:3000"
OTHER_SITE = "https://evil.example"
OPERATIONS = [
    (method.upper(), path, operation["operationId"])
    for path, methods in load_contract()["paths"].items()
    for method, operation in methods.items()
]


def settings_for(sqlite_url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=sqlite_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
        **overrides,  # type: ignore[arg-type]
    )


async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def cors_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(settings_for(sqlite_url, cors_origins=(FRONT_END,))):
        yield client


@pytest.fixture
async def default_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(settings_for(sqlite_url)):
        yield client


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("access-control-")
    }


def concrete(path: str, owner: str) -> str:
    return re.sub(r"\{task_id\}", "1", path.replace("{user_id}", owner))


def preflight_headers(origin: str, method: str, asked: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": asked,
    }


@pytest.mark.parametrize(
    ("method", "path", "operation_id"), OPERATIONS, ids=[o[2] for o in OPERATIONS]
)
async def test_every_operation_has_a_preflight_for_the_front_end(
    cors_client: httpx.AsyncClient, method: str, path: str, operation_id: str
) -> None:
    response = await cors_client.options(
        concrete(path, new_owner()),
        headers=preflight_headers(FRONT_END, method, "authorization,content-type"),
    )
    assert response.status_code == 204, response.text
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == FRONT_END
    assert method in headers["access-control-allow-methods"].split(", ")
    allowed = "Authorization, Content-Type, Idempotency-Key, If-None-Match, If-Match"
    assert headers["access-control-allow-headers"] == allowed
    assert "access-control-allow-credentials" not in headers  # off by default
    assert headers["access-control-max-age"] == "600"
    assert "Origin" in response.headers["vary"]


async def test_responses_to_the_front_end_expose_the_cursor_and_location(
    cors_client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    for title in ("a", "b"):
        await make_task(cors_client, owner, title=title)
    listed = await cors_client.get(
        f"/api/{owner}/tasks?limit=1", headers={**token_for(owner), "Origin": FRONT_END}
    )
    assert listed.status_code == 200
    assert listed.headers["x-next-cursor"]
    assert listed.headers["access-control-allow-origin"] == FRONT_END
    exposed = listed.headers["access-control-expose-headers"].split(", ")
    assert set(exposed) == {"X-Next-Cursor", "Location", "ETag", "X-Request-ID"}
    assert listed.headers["x-request-id"]
    assert "Origin" in listed.headers["vary"]

    created = await cors_client.post(
        f"/api/{owner}/tasks",
        json={"title": "c"},
        headers={**token_for(owner), "Origin": FRONT_END},
    )
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == FRONT_END
    assert "Location" in created.headers["access-control-expose-headers"]
    assert "ETag" in created.headers["access-control-expose-headers"]


async def test_problems_are_readable_by_the_front_end(cors_client: httpx.AsyncClient) -> None:
    # A script must be able to read why it was refused: 401 carries CORS headers too.
    response = await cors_client.get(f"/api/{new_owner()}/tasks", headers={"Origin": FRONT_END})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == FRONT_END


async def test_a_body_refused_before_routing_is_readable_too(
    cors_client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    response = await cors_client.post(
        f"/api/{owner}/tasks",
        content=b"{}",
        headers={**token_for(owner), "Origin": FRONT_END, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.headers["access-control-allow-origin"] == FRONT_END


async def test_an_origin_not_listed_gets_no_cors_headers(cors_client: httpx.AsyncClient) -> None:
    owner = new_owner()
    listed = await cors_client.get(
        f"/api/{owner}/tasks", headers={**token_for(owner), "Origin": OTHER_SITE}
    )
    assert listed.status_code == 200
    assert cors_headers(listed) == {}
    assert "Origin" in listed.headers["vary"]
    preflight = await cors_client.options(
        f"/api/{owner}/tasks", headers=preflight_headers(OTHER_SITE, "POST", "authorization")
    )
    assert cors_headers(preflight) == {}
    assert preflight.status_code == 405


async def test_a_preflight_for_a_header_the_api_does_not_read_is_not_allowed(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options(
        f"/api/{new_owner()}/tasks",
        headers=preflight_headers(FRONT_END, "GET", "authorization,x-custom"),
    )
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_for_a_method_the_path_lacks_is_not_allowed(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options(
        f"/api/{new_owner()}/tasks", headers=preflight_headers(FRONT_END, "DELETE", "")
    )
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405


async def test_by_default_no_origin_gets_cors_headers(default_client: httpx.AsyncClient) -> None:
    owner = new_owner()
    listed = await default_client.get(
        f"/api/{owner}/tasks", headers={**token_for(owner), "Origin": FRONT_END}
    )
    assert listed.status_code == 200
    assert cors_headers(listed) == {}
    preflight = await default_client.options(
        f"/api/{owner}/tasks", headers=preflight_headers(FRONT_END, "GET", "authorization")
    )
    assert cors_headers(preflight) == {}


def test_cors_origins_is_read_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("CORS_ORIGINS", '["https://app.example.com", "http://localhost:3000"]')
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:3000")


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://app.example.com/",
        "https://app.example.com/app",
        "app.example.com",
        "ftp://app.example.com",
        "HTTPS://App.example.com",
        "https://user@app.example.com",
    ],
)
def test_a_value_that_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS") as refused:
        Settings(
            better_auth_secret=SECRET,
            cors_origins=(origin,),
            _env_file=None,
        )
    assert repr(origin) in str(refused.value)
