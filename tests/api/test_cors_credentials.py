"""CORS_ALLOW_CREDENTIALS: a front end that sends `credentials: "include"` can read answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from backend.settings import Settings
from tests.api.test_cors import (
    FRONT_END,
    OTHER_SITE,
    cors_headers,
    preflight_headers,
    serve,
    settings_for,
)
from tests.conftest import SECRET, new_owner, token_for

pytestmark = pytest.mark.anyio


@pytest.fixture
async def credentials_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(sqlite_url, cors_origins=(FRONT_END,), cors_allow_credentials=True)
    async for client in serve(settings):
        yield client


async def test_a_preflight_allows_credentials_for_the_exact_origin(
    credentials_client: httpx.AsyncClient,
) -> None:
    response = await credentials_client.options(
        f"/api/{new_owner()}/tasks",
        headers=preflight_headers(FRONT_END, "POST", "authorization,content-type,idempotency-key"),
    )
    assert response.status_code == 204, response.text
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == FRONT_END
    assert headers["access-control-allow-credentials"] == "true"
    assert "Idempotency-Key" in headers["access-control-allow-headers"].split(", ")


async def test_responses_allow_credentials_for_the_exact_origin(
    credentials_client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    response = await credentials_client.post(
        f"/api/{owner}/tasks",
        json={"title": "from the browser"},
        headers={**token_for(owner), "Origin": FRONT_END, "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 201, response.text
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == FRONT_END
    assert headers["access-control-allow-credentials"] == "true"
    assert "Location" in headers["access-control-expose-headers"]


async def test_another_origin_gets_no_credentials(credentials_client: httpx.AsyncClient) -> None:
    owner = new_owner()
    response = await credentials_client.get(
        f"/api/{owner}/tasks", headers={**token_for(owner), "Origin": OTHER_SITE}
    )
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_credentials_are_off_by_default() -> None:
    settings = Settings(better_auth_secret=SECRET, _env_file=None)
    assert settings.cors_allow_credentials is False


def test_credentials_with_a_wildcard_origin_refuse_to_start() -> None:
    with pytest.raises(ValidationError, match="CORS_ALLOW_CREDENTIALS"):
        Settings(
            better_auth_secret=SECRET,
            cors_origins=("*",),
            cors_allow_credentials=True,
            _env_file=None,
        )
