"""Conditional writes under contention: 50 clients, 4 workers, one winner (contract 1.3.0)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import DATABASES, SECRET, new_owner, token_for
from tests.support.live_server import LiveServer, live_server, own_database

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKERS = 4
CLIENTS = 50
ROUNDS = 3


@pytest.fixture(scope="module", params=DATABASES, ids=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("conditional-writes")
    url = own_database(request, folder, "conditional")
    with live_server(url, SECRET, folder / "server.log", workers=WORKERS) as running:
        yield running


@pytest.mark.parametrize("write", ["update", "toggle", "delete"])
async def test_fifty_clients_with_the_tag_they_read_exactly_one_wins(
    server: LiveServer, write: str
) -> None:
    owner = new_owner()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=httpx.Timeout(60.0)
    ) as client:
        for _ in range(ROUNDS):
            created = await client.post(
                f"/api/{owner}/tasks", json={"title": "shared"}, headers=token_for(owner)
            )
            url = f"/api/{owner}/tasks/{created.json()['id']}"
            tag = created.headers["etag"]
            headers = {**token_for(owner), "If-Match": tag}

            async def send(
                n: int, url: str = url, headers: dict[str, str] = headers
            ) -> httpx.Response:
                if write == "update":
                    return await client.put(url, json={"title": f"client {n}"}, headers=headers)
                if write == "toggle":
                    return await client.patch(f"{url}/complete", headers=headers)
                return await client.delete(url, headers=headers)

            answers = await asyncio.gather(*(send(n) for n in range(CLIENTS)))
            statuses = Counter(answer.status_code for answer in answers)
            won = 204 if write == "delete" else 200
            assert statuses == {won: 1, 412: CLIENTS - 1}, statuses
            stored = await client.get(url, headers=token_for(owner))
            if write == "delete":
                assert stored.status_code == 404
                continue
            winner = next(answer for answer in answers if answer.status_code == 200)
            assert stored.json() == winner.json()
            assert stored.headers["etag"] == winner.headers["etag"] != tag
    assert "Traceback" not in server.log_text()
