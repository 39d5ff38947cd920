"""6. Faults: responses lost after the server handled the request, and the client retries.

A test transport drops about a third of the responses once the app has answered (as a
phone losing its connection does), and the client repeats each request until it gets an
answer: creates with an Idempotency-Key, completions as a CompletionState body. Afterwards
every user's tasks are exactly the ones intended: no duplicate, no inverted completion.
A control run without keys, on the same transport, shows the faults do duplicate tasks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import new_owner, token_for

pytestmark = pytest.mark.anyio
logger = logging.getLogger(__name__)

USERS = 6
TASKS_PER_USER = 12
SETS_PER_TASK = 3
DROP_RATIO = 1 / 3
MAX_ATTEMPTS = 40  # (1/3)^40: a request that never gets through would be a bug
SEED = 20261201


class LostResponse(httpx.TransportError):
    """The connection broke after the server had handled the request."""


@dataclass
class DroppingTransport(httpx.AsyncBaseTransport):
    """Passes each request to the app, then loses about DROP_RATIO of the answers.

    Each answer to a keyed create, lost or delivered, is kept by its key."""

    inner: httpx.AsyncBaseTransport
    rng: random.Random
    requests: int = 0
    dropped: int = 0
    created_by_key: dict[str, list[bytes]] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.requests += 1
        key = request.headers.get("idempotency-key")
        if key is not None and response.status_code == 201:
            self.created_by_key.setdefault(key, []).append(content)
        if self.rng.random() < DROP_RATIO:
            self.dropped += 1
            raise LostResponse("the response was lost", request=request)
        return response


@dataclass
class RetryingClient:
    client: httpx.AsyncClient
    retries: int = 0

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The first answer the request gets, repeating it unchanged while answers are lost."""
        for _ in range(MAX_ATTEMPTS):
            try:
                response = await self.client.request(method, url, **kwargs)
            except LostResponse:
                self.retries += 1
                continue
            if response.status_code == 409:  # the first attempt is still being processed
                self.retries += 1
                continue
            return response
        raise AssertionError(f"{method} {url}: no answer in {MAX_ATTEMPTS} attempts")


@pytest.fixture
async def lossy(app: FastAPI) -> AsyncIterator[tuple[RetryingClient, DroppingTransport]]:
    transport = DroppingTransport(httpx.ASGITransport(app=app), random.Random(SEED))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield RetryingClient(client), transport


async def stored_tasks(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
        assert response.status_code == 200, response.text
        tasks.extend(response.json())
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return tasks
        params["cursor"] = cursor


async def one_user(retrying: RetryingClient, owner: str, rng: random.Random) -> dict[str, bool]:
    """Create TASKS_PER_USER tasks, set each one's completion a few times: title -> intended."""
    intended: dict[str, bool] = {}
    for number in range(TASKS_PER_USER):
        title = f"task {number}"
        created = await retrying.send(
            "POST",
            f"/api/{owner}/tasks",
            json={"title": title},
            headers={**token_for(owner), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        intended[title] = False
        for _ in range(SETS_PER_TASK):
            wanted = rng.random() < 0.5
            answer = await retrying.send(
                "PATCH",
                f"/api/{owner}/tasks/{created.json()['id']}/complete",
                json={"completed": wanted},
                headers=token_for(owner),
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["completed"] is wanted
            intended[title] = wanted
    return intended


async def test_lost_responses_and_retries_leave_exactly_the_intended_tasks(
    lossy: tuple[RetryingClient, DroppingTransport], client: httpx.AsyncClient
) -> None:
    retrying, transport = lossy
    owners = [new_owner() for _ in range(USERS)]
    rngs = [random.Random(SEED + index) for index in range(USERS)]
    intended = await asyncio.gather(
        *(one_user(retrying, owner, rng) for owner, rng in zip(owners, rngs, strict=True))
    )
    duplicates = inverted = 0
    for owner, wanted in zip(owners, intended, strict=True):
        tasks = await stored_tasks(client, owner)
        titles = Counter(task["title"] for task in tasks)
        duplicates += sum(count - 1 for count in titles.values())
        assert set(titles) == set(wanted)
        inverted += sum(task["completed"] is not wanted[task["title"]] for task in tasks)
    figures = (
        f"{transport.requests} requests, {transport.dropped} responses dropped, "
        f"{retrying.retries} retries: {duplicates} duplicates, {inverted} inverted completions"
    )
    print(f"\nlost responses: {figures}")  # noqa: T201 - the figures the docs quote
    logger.info("lost responses: %s", figures)
    assert transport.dropped > 0
    assert (duplicates, inverted) == (0, 0), figures
    # A create whose answer was lost is answered again on its retry: with the first
    # response, byte for byte.
    answered_again = [bodies for bodies in transport.created_by_key.values() if len(bodies) > 1]
    assert answered_again, "no lost create was retried: the keys were never put to the test"
    for bodies in answered_again:
        assert bodies == [bodies[0]] * len(bodies)


async def test_without_keys_the_same_faults_duplicate_tasks(
    lossy: tuple[RetryingClient, DroppingTransport], client: httpx.AsyncClient
) -> None:
    """The control: the transport's faults are real, so the keys are what prevents them."""
    retrying, transport = lossy
    owner = new_owner()
    for number in range(TASKS_PER_USER):
        created = await retrying.send(
            "POST",
            f"/api/{owner}/tasks",
            json={"title": f"task {number}"},
            headers=token_for(owner),
        )
        assert created.status_code == 201
    stored = await stored_tasks(client, owner)
    assert transport.dropped > 0
    # Each lost answer to a create without a key, retried, stored one task more.
    assert len(stored) == TASKS_PER_USER + transport.dropped
