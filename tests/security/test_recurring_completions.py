"""Recurring tasks under contention: 1,000 completions of one task across 4 workers create
exactly one next occurrence (contract 1.4.0).

Completing a task with a rule creates its next occurrence in the same atomic step, at most
once however often or concurrently it is completed (specs/api/rest-endpoints.md, Task,
Recurrence). Each test completes one task from many connections at once, through the
completion route, toggles, updates, or requests whose answers the client never read, then
lists the owner's tasks: the task and one next occurrence, which every answer names.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import DATABASES, SECRET, new_owner, token_for
from tests.support.live_server import LiveServer, live_server, own_database
from tests.support.load import listed_tasks

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKERS = 4
# Completions of one task per test: the acceptance figure on PostgreSQL; SQLite (whose
# writers queue on one lock) gets a quarter, to keep the file's run time down.
REQUESTS = {"postgres": 1_000, "sqlite": 250}
CONNECTIONS = 100  # requests beyond this wait in the client, as behind a proxy
MAX_ATTEMPTS = 20
COMPLETED_DEADLINE_SECONDS = 30.0
KEEPALIVE_EXPIRY_SECONDS = 1.0  # below uvicorn's keep-alive timeout (see tests/support/load.py)
RECURRING = {"title": "water the plants", "due_date": "2027-01-04", "recurrence": "FREQ=DAILY"}
NEXT_DUE_DATE = "2027-01-05"
COMPLETED = {"completed": True}
ANSWER_TIMEOUT = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class Served:
    server: LiveServer
    requests: int
    """How many completions each test sends to one task."""


@pytest.fixture(scope="module", params=DATABASES, ids=DATABASES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("recurring-completions")
    url = own_database(request, folder, "recurring")
    with live_server(url, SECRET, folder / "server.log", workers=WORKERS) as running:
        yield Served(running, REQUESTS[request.param])
    assert "Traceback" not in running.log_text(), running.log_text()[-4000:]


@pytest.fixture
async def client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(
        max_connections=CONNECTIONS,
        max_keepalive_connections=CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    async with httpx.AsyncClient(
        base_url=served.server.base_url, limits=limits, timeout=httpx.Timeout(60.0)
    ) as http:
        yield http


async def recurring_task(client: httpx.AsyncClient, owner: str) -> str:
    """A new daily task of `owner`, not completed; its URL."""
    created = await client.post(f"/api/{owner}/tasks", json=RECURRING, headers=token_for(owner))
    assert created.status_code == 201, created.text
    assert created.json()["next_occurrence_id"] is None
    return f"/api/{owner}/tasks/{created.json()['id']}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def raw_request(
    server: LiveServer, method: str, path: str, owner: str, body: Any = None, *, close: bool
) -> bytes:
    """The bytes of one HTTP/1.1 request, built once: a burst only writes them."""
    content = b"" if body is None else json.dumps(body).encode()
    base = httpx.URL(server.base_url)
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {base.host}:{base.port}",
        f"Authorization: {token_for(owner)['Authorization']}",
        f"Content-Length: {len(content)}",
        *(["Content-Type: application/json"] if body is not None else []),
        *(["Connection: close"] if close else []),
    ]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + content


async def connect(server: LiveServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    base = httpx.URL(server.base_url)
    assert base.port is not None
    return await asyncio.open_connection(base.host, base.port)


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """One response of a kept-alive connection (the API's answers carry Content-Length)."""
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_TIMEOUT)).decode()
    status_line, *header_lines = head.split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
    assert "content-length" in headers, head
    content = await reader.readexactly(int(headers["content-length"]))
    return Answer(int(status_line.split()[1]), json.loads(content))


async def burst(server: LiveServer, requests: list[bytes]) -> list[Answer]:
    """Send `requests` over CONNECTIONS kept-alive connections, one request in flight on
    each. The connections are all open first and the requests prebuilt, so the first
    CONNECTIONS of them leave together: the race is in those (a client building each
    request as it goes spreads them over longer than a completion takes)."""
    connections = await asyncio.gather(*(connect(server) for _ in range(CONNECTIONS)))
    answers: list[Answer | None] = [None] * len(requests)

    async def one_connection(first: int, reader: asyncio.StreamReader, writer: Any) -> None:
        for number in range(first, len(requests), CONNECTIONS):
            writer.write(requests[number])
            answers[number] = await read_answer(reader)
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(one_connection(first, *pair) for first, pair in enumerate(connections)))
    return [answer for answer in answers if answer is not None]


async def at_once(count: int, send: Callable[[int], Awaitable[T]]) -> list[T]:
    """`send(0)` to `send(count - 1)` side by side, at most CONNECTIONS of them at a time."""
    gate = asyncio.Semaphore(CONNECTIONS)

    async def gated(number: int) -> T:
        async with gate:
            return await send(number)

    return await asyncio.gather(*(gated(number) for number in range(count)))


async def the_one_next_occurrence(
    client: httpx.AsyncClient, owner: str, url: str, *, completed: bool
) -> int:
    """Assert the owner has exactly the task at `url` and one next occurrence; its id."""
    tasks = await listed_tasks(client, owner)
    task_id = int(url.rsplit("/", 1)[1])
    assert task_id in tasks, tasks
    following = [task for number, task in tasks.items() if number != task_id]
    assert len(tasks) == 2, f"{len(following)} next occurrences: {sorted(tasks)}"
    original, created = tasks[task_id], following[0]
    assert original["completed"] is completed
    assert original["next_occurrence_id"] == created["id"]
    assert created["completed"] is False
    assert created["next_occurrence_id"] is None
    assert (created["due_date"], created["recurrence"]) == (NEXT_DUE_DATE, "FREQ=DAILY")
    return int(created["id"])


def assert_all_name(answers: list[Answer], sent: int, following: int) -> None:
    """Every request was answered 200 with the task, naming the one next occurrence."""
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {200: sent}, statuses
    named = Counter(answer.body["next_occurrence_id"] for answer in answers)
    assert named == {following: len(answers)}, named


async def test_a_thousand_completions_create_one_next_occurrence(
    served: Served, client: httpx.AsyncClient
) -> None:
    owner = new_owner()
    url = await recurring_task(client, owner)
    complete = raw_request(served.server, "PATCH", f"{url}/complete", owner, COMPLETED, close=False)
    answers = await burst(served.server, [complete] * served.requests)
    following = await the_one_next_occurrence(client, owner, url, completed=True)
    assert_all_name(answers, served.requests, following)
    assert all(answer.body["completed"] is True for answer in answers)


async def test_updates_that_complete_among_completions_create_one_next_occurrence(
    served: Served, client: httpx.AsyncClient
) -> None:
    """Half the writes are PUT {"completed": true}: an update that completes the task."""
    owner = new_owner()
    url = await recurring_task(client, owner)
    server, sent = served.server, served.requests // 4 * 2  # pairs
    complete = raw_request(server, "PATCH", f"{url}/complete", owner, COMPLETED, close=False)
    update = raw_request(server, "PUT", url, owner, COMPLETED, close=False)
    answers = await burst(server, [complete, update] * (sent // 2))
    following = await the_one_next_occurrence(client, owner, url, completed=True)
    assert_all_name(answers, sent, following)
    assert all(answer.body["completed"] is True for answer in answers)


async def test_a_thousand_toggles_create_one_next_occurrence(
    served: Served, client: httpx.AsyncClient
) -> None:
    """Toggled 1,000 times the task is completed 500 times; only the first creates."""
    owner = new_owner()
    url = await recurring_task(client, owner)
    toggle = raw_request(served.server, "PATCH", f"{url}/complete", owner, close=False)
    answers = await burst(served.server, [toggle] * served.requests)
    following = await the_one_next_occurrence(client, owner, url, completed=False)
    assert_all_name(answers, served.requests, following)
    states = Counter(answer.body["completed"] for answer in answers)
    assert states == {True: served.requests // 2, False: served.requests // 2}, states


async def send_and_drop(server: LiveServer, request: bytes) -> None:
    """Send the request and close the connection without reading a byte of the answer."""
    _, writer = await connect(server)
    writer.write(request)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def completed_within_deadline(client: httpx.AsyncClient, owner: str, url: str) -> None:
    """Poll the task until a dropped request has completed it."""
    deadline = time.monotonic() + COMPLETED_DEADLINE_SECONDS
    while True:
        read = await client.get(url, headers=token_for(owner))
        assert read.status_code == 200, read.text
        if read.json()["completed"]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no dropped completion reached the task in {COMPLETED_DEADLINE_SECONDS:g} s"
            )
        await asyncio.sleep(0.05)  # a poll interval, bounded by the deadline above


async def test_completions_whose_answers_were_dropped_then_retried_create_one(
    served: Served, client: httpx.AsyncClient
) -> None:
    """Many clients complete the task and hang up before the answer, all at once, then each
    retries until it gets one: the lost completions and the retries create one together."""
    server, dropped = served.server, served.requests // 4
    owner = new_owner()
    url = await recurring_task(client, owner)
    request = raw_request(server, "PATCH", f"{url}/complete", owner, COMPLETED, close=True)
    await at_once(dropped, lambda _: send_and_drop(server, request))
    # Only dropped requests were sent so far: the server handled them without a reader.
    await completed_within_deadline(client, owner, url)

    async def retry(_: int) -> httpx.Response:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                return await client.patch(
                    f"{url}/complete", json={"completed": True}, headers=token_for(owner)
                )
            except httpx.TransportError:
                continue
        raise AssertionError(f"no answer in {MAX_ATTEMPTS} attempts")

    retried = await at_once(dropped, retry)
    following = await the_one_next_occurrence(client, owner, url, completed=True)
    answers = [Answer(answer.status_code, answer.json()) for answer in retried]
    assert_all_name(answers, dropped, following)
