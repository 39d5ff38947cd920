"""/livez and /readyz: unauthenticated probes outside the task API."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_livez_answers_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


async def test_readyz_is_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ready"}


async def test_probes_are_not_operations_of_the_contract(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/livez" not in paths
    assert "/readyz" not in paths


async def test_probes_accept_get_only(client: httpx.AsyncClient) -> None:
    response = await client.post("/readyz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]


async def test_readyz_is_503_when_the_database_is_unreachable(
    unreachable_client: httpx.AsyncClient,
) -> None:
    ready = await unreachable_client.get("/readyz")
    live = await unreachable_client.get("/livez")
    assert ready.status_code == 503, ready.text
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"] == "1"
    body = ready.json()
    assert body["status"] == 503
    assert body["instance"] == "/readyz"
    assert "Traceback" not in ready.text
    assert "postgres@" not in ready.text  # the database URL is not revealed
    assert live.status_code == 200  # alive, just not ready
