"""5. Concurrency: many requests at once against a live server with several workers."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import DATABASES, SECRET, new_owner, token_for
from tests.support.live_server import LiveServer, live_server, own_database

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
logger = logging.getLogger(__name__)
RecordProperty = Callable[[str, object], None]  # the record_property fixture

WORKERS = 3
# Fewer connections than requests: requests queue in the client, as behind a real proxy.
CLIENT_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)
CLIENT_TIMEOUT = httpx.Timeout(30.0)
MAX_PAGES = 100


@pytest.fixture(scope="module", params=DATABASES, ids=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database of this module's own (the live server migrates it), SQLite or PostgreSQL."""
    return own_database(request, tmp_path_factory.mktemp("concurrency"), "concurrency")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log_path = tmp_path_factory.mktemp("concurrency-logs") / "server.log"
    with live_server(database_url, SECRET, log_path, workers=WORKERS) as running:
        yield running


def client_for(server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=CLIENT_TIMEOUT)


def assert_not_a_server_error(response: httpx.Response) -> None:
    """No 5xx but the documented 503: a problem body that says when to retry."""
    if response.status_code < 500:
        return
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"


def assert_logged_no_unexpected_error(server: LiveServer, since: int) -> None:
    logged = server.log_text()[since:]
    assert "unexpected error" not in logged, logged[-4000:]
    assert "Traceback" not in logged, logged[-4000:]


async def list_all(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    """Every task of `owner`, page by page along X-Next-Cursor."""
    listed: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 100}
    for _ in range(MAX_PAGES):
        response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
        assert response.status_code == 200, response.text
        listed.extend(response.json())
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return listed
        params = {"limit": 100, "cursor": cursor}
    raise AssertionError(f"more than {MAX_PAGES} pages for {owner}")


async def create(client: httpx.AsyncClient, owner: str, title: str) -> httpx.Response:
    return await client.post(f"/api/{owner}/tasks", json={"title": title}, headers=token_for(owner))


async def test_concurrent_creates_store_exactly_the_acknowledged_tasks(
    server: LiveServer, record_property: RecordProperty
) -> None:
    since = len(server.log_text())
    owners = [new_owner() for _ in range(4)]
    sent = [(owners[index % len(owners)], f"task {index}") for index in range(200)]
    async with client_for(server) as client:
        started = time.monotonic()
        responses = await asyncio.gather(*(create(client, owner, title) for owner, title in sent))
        elapsed = time.monotonic() - started

        for response in responses:
            assert_not_a_server_error(response)
        statuses = Counter(response.status_code for response in responses)
        assert set(statuses) <= {201, 503}, statuses
        for owner in owners:
            acknowledged = {
                response.json()["id"]: response.json()
                for (sent_owner, _), response in zip(sent, responses, strict=True)
                if sent_owner == owner and response.status_code == 201
            }
            refused = {
                title
                for (sent_owner, title), response in zip(sent, responses, strict=True)
                if sent_owner == owner and response.status_code == 503
            }
            stored = await list_all(client, owner)
            assert len(stored) == len({task["id"] for task in stored})  # no page repeats one
            assert {task["id"]: task for task in stored} == acknowledged
            assert not refused & {task["title"] for task in stored}
    record_property("requests", len(sent))
    record_property("seconds", round(elapsed, 2))
    logger.info("%d concurrent creates in %.2f s: %s", len(sent), elapsed, dict(statuses))
    assert statuses == {201: len(sent)}, "every create should succeed under this load"
    assert_logged_no_unexpected_error(server, since)


async def test_concurrent_toggles_each_answer_the_state_they_produced(
    server: LiveServer, record_property: RecordProperty
) -> None:
    since = len(server.log_text())
    owner = new_owner()
    toggles = 101
    async with client_for(server) as client:
        task = (await create(client, owner, "toggled")).json()
        path = f"/api/{owner}/tasks/{task['id']}/complete"
        started = time.monotonic()
        responses = await asyncio.gather(
            *(client.patch(path, headers=token_for(owner)) for _ in range(toggles))
        )
        elapsed = time.monotonic() - started
        final = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))

    assert [response.status_code for response in responses] == [200] * toggles
    produced = Counter(response.json()["completed"] for response in responses)
    # Serialized flips from False produce True, False, True, ...: 51 True and 50 False.
    assert produced == {True: 51, False: 50}
    assert final.json()["completed"] is True
    assert {response.json()["id"] for response in responses} == {task["id"]}
    record_property("requests", toggles)
    record_property("seconds", round(elapsed, 2))
    logger.info("%d concurrent toggles in %.2f s", toggles, elapsed)
    assert_logged_no_unexpected_error(server, since)


async def test_concurrent_updates_and_a_delete_leave_a_consistent_end(
    server: LiveServer, record_property: RecordProperty
) -> None:
    """Updates race a delete; the moment the delete is answered, more updates are sent
    (while earlier ones may still be in flight): each of those must find no task."""
    since = len(server.log_text())
    owner = new_owner()
    updates, late_updates = 30, 10

    async with client_for(server) as client:
        task = (await create(client, owner, "contended")).json()
        path = f"/api/{owner}/tasks/{task['id']}"

        async def update(title: str) -> httpx.Response:
            return await client.put(path, json={"title": title}, headers=token_for(owner))

        async def delete_then_update() -> tuple[httpx.Response, list[httpx.Response]]:
            deleted = await client.delete(path, headers=token_for(owner))
            late = [update(f"late {index}") for index in range(late_updates)]
            return deleted, await asyncio.gather(*late)

        titles = [f"title {index}" for index in range(updates)]
        racing = asyncio.gather(*(update(title) for title in titles))
        racing_results, (deleted, late) = await asyncio.gather(racing, delete_then_update())
        after = await client.put(path, json={"title": "too late"}, headers=token_for(owner))
        final = await client.get(path, headers=token_for(owner))

    assert deleted.status_code == 204, deleted.text
    statuses = Counter(response.status_code for response in racing_results)
    assert set(statuses) <= {200, 404}, statuses
    for title, response in zip(titles, racing_results, strict=True):
        if response.status_code == 200:
            # UPDATE ... RETURNING answers the row this request wrote, never another's.
            assert response.json()["title"] == title
    late_statuses = [response.status_code for response in late]
    assert late_statuses == [404] * late_updates, "an update sent after the delete found the task"
    assert after.status_code == 404
    assert final.status_code == 404
    record_property("requests", updates + late_updates + 1)
    logger.info("%d updates around one delete: %s", updates, dict(statuses))
    assert_logged_no_unexpected_error(server, since)


async def test_mixed_writes_of_many_users_never_surface_lock_contention(
    server: LiveServer, record_property: RecordProperty
) -> None:
    """On SQLite the workers are separate processes: only the busy timeout stands between a
    write and 'database is locked'. Each user creates, renames, toggles, deletes, lists."""
    since = len(server.log_text())
    owners = [new_owner() for _ in range(8)]
    rounds = 8

    async def session(client: httpx.AsyncClient, owner: str) -> list[httpx.Response]:
        responses: list[httpx.Response] = []
        headers = token_for(owner)
        for index in range(rounds):
            created = await create(client, owner, f"mixed {index}")
            responses.append(created)
            assert created.status_code == 201, created.text
            path = f"/api/{owner}/tasks/{created.json()['id']}"
            responses.append(await client.put(path, json={"title": "renamed"}, headers=headers))
            responses.append(await client.patch(f"{path}/complete", headers=headers))
            if index % 2:
                responses.append(await client.delete(path, headers=headers))
            responses.append(await client.get(f"/api/{owner}/tasks", headers=headers))
        return responses

    async with client_for(server) as client:
        started = time.monotonic()
        sessions = await asyncio.gather(*(session(client, owner) for owner in owners))
        elapsed = time.monotonic() - started
        remaining = [await list_all(client, owner) for owner in owners]

    responses = [response for responses in sessions for response in responses]
    for response in responses:
        assert_not_a_server_error(response)
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {200, 201, 204}, statuses
    for stored in remaining:
        assert len(stored) == rounds // 2
        assert all(task["title"] == "renamed" and task["completed"] for task in stored)
    record_property("requests", len(responses))
    record_property("seconds", round(elapsed, 2))
    logger.info("%d mixed requests in %.2f s: %s", len(responses), elapsed, dict(statuses))
    assert_logged_no_unexpected_error(server, since)


def test_the_server_runs_several_workers(server: LiveServer) -> None:
    """The premise of this module: requests are spread over separate processes."""
    assert server.log_text().count("Application startup complete") == WORKERS


async def test_simultaneous_creates_with_one_key_create_one_task(
    server: LiveServer, record_property: RecordProperty
) -> None:
    """20 copies of one keyed create at once, across the workers: one task; each copy gets
    the remembered response or 409, never a second task."""
    since = len(server.log_text())
    owner = new_owner()
    headers = {**token_for(owner), "Idempotency-Key": str(uuid.uuid4())}
    async with client_for(server) as client:
        responses = await asyncio.gather(
            *(
                client.post(f"/api/{owner}/tasks", json={"title": "once"}, headers=headers)
                for _ in range(20)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert set(statuses) <= {201, 409}, statuses
        created = {response.content for response in responses if response.status_code == 201}
        assert len(created) == 1, created
        stored = await list_all(client, owner)
    assert [task["title"] for task in stored] == ["once"]
    assert {response.json()["id"] for response in responses if response.status_code == 201} == {
        stored[0]["id"]
    }
    record_property("statuses", dict(statuses))
    logger.info("20 simultaneous keyed creates: %s", dict(statuses))
    assert_logged_no_unexpected_error(server, since)
