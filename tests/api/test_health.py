"""/livez and /readyz: unauthenticated probes outside the task API."""

from __future__ import annotations

import httpx
import pytest

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET

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


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again when the probe socket is


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/todo",
        better_auth_secret=SECRET,
        database_timeout_seconds=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = await client.get("/readyz")
        live = await client.get("/livez")
    assert ready.status_code == 503, ready.text
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"] == "1"
    body = ready.json()
    assert body["status"] == 503
    assert body["instance"] == "/readyz"
    assert "Traceback" not in ready.text
    assert "postgres@" not in ready.text  # the database URL is not revealed
    assert live.status_code == 200  # alive, just not ready
