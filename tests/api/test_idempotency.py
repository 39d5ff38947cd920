"""Idempotency-Key on createTask: a repeat gets the first response and creates nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.db import DatabaseUnavailable, Statement, Transaction
from backend.idempotency import IdempotencyKeys
from backend.store import OwnerId, TaskStore
from generated.models import Task, TaskCreate
from tests.conftest import new_owner, token_for

pytestmark = pytest.mark.anyio

KEY_HEADER = "Idempotency-Key"


def new_key() -> str:
    return str(uuid.uuid4())


async def create(
    client: httpx.AsyncClient, owner: str, key: str | None, body: Any = None, **extra: str
) -> httpx.Response:
    headers = {**token_for(owner), **extra}
    if key is not None:
        headers[KEY_HEADER] = key
    return await client.post(
        f"/api/{owner}/tasks", json=body or {"title": "buy milk"}, headers=headers
    )


async def stored_titles(client: httpx.AsyncClient, owner: str) -> list[str]:
    response = await client.get(
        f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    return sorted(task["title"] for task in response.json())


async def key_rows(app: FastAPI, owner: str) -> list[dict[str, Any]]:
    keys: IdempotencyKeys = app.state.idempotency_keys
    statement = Statement("SELECT * FROM idempotency_key WHERE user_id = :owner", {})
    if keys.database.dialect.name == "postgresql":
        statement = Statement("SELECT * FROM idempotency_key WHERE user_id = %(owner)s", {})
    return await keys.database.fetch(statement, {"owner": owner})


async def test_a_repeat_gets_the_first_response_and_creates_nothing(
    client: httpx.AsyncClient, owner: str
) -> None:
    key = new_key()
    first = await create(client, owner, key, {"title": "once", "tags": ["b", "a"]})
    second = await create(client, owner, key, {"tags": ["b", "a"], "title": "once"})
    assert first.status_code == second.status_code == 201, second.text
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert first.headers["location"] == f"/api/{owner}/tasks/{first.json()['id']}"
    Task.model_validate(second.json())
    assert await stored_titles(client, owner) == ["once"]


async def test_the_remembered_response_is_the_first_even_after_the_task_changed(
    client: httpx.AsyncClient, owner: str
) -> None:
    key = new_key()
    first = await create(client, owner, key)
    task_id = first.json()["id"]
    changed = await client.put(
        f"/api/{owner}/tasks/{task_id}", json={"title": "renamed"}, headers=token_for(owner)
    )
    assert changed.status_code == 200, changed.text
    again = await create(client, owner, key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await stored_titles(client, owner) == ["renamed"]


async def test_the_same_key_with_another_body_is_422_naming_the_header(
    client: httpx.AsyncClient, owner: str
) -> None:
    key = new_key()
    assert (await create(client, owner, key, {"title": "first"})).status_code == 201
    reused = await create(client, owner, key, {"title": "second"})
    assert reused.status_code == 422, reused.text
    assert reused.headers["content-type"] == "application/problem+json"
    problem = reused.json()
    assert problem["errors"][0]["location"] == "header.Idempotency-Key"
    assert "another body" in problem["errors"][0]["message"]
    assert await stored_titles(client, owner) == ["first"]


async def test_keys_are_per_user(client: httpx.AsyncClient) -> None:
    alice, bob = new_owner(), new_owner()
    key = new_key()
    mine = await create(client, alice, key, {"title": "alice's"})
    theirs = await create(client, bob, key, {"title": "alice's"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["user_id"] == bob
    assert theirs.headers["location"].startswith(f"/api/{bob}/")
    assert await stored_titles(client, alice) == ["alice's"]
    assert await stored_titles(client, bob) == ["alice's"]


async def test_without_a_key_every_create_creates(client: httpx.AsyncClient, owner: str) -> None:
    for _ in range(2):
        assert (await create(client, owner, None)).status_code == 201
    assert await stored_titles(client, owner) == ["buy milk", "buy milk"]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("has space", id="space"),
        pytest.param("k" * 256, id="256-characters"),
        pytest.param("tab\tinside", id="control-character"),
    ],
)
async def test_a_key_outside_the_documented_set_is_422(
    client: httpx.AsyncClient, owner: str, key: str
) -> None:
    response = await create(client, owner, key)
    assert response.status_code == 422, response.text
    locations = {issue["location"] for issue in response.json()["errors"]}
    assert locations == {"header.Idempotency-Key"}
    assert await stored_titles(client, owner) == []


async def test_the_longest_key_and_every_printable_character_are_accepted(
    client: httpx.AsyncClient, owner: str
) -> None:
    printable = "".join(chr(code) for code in range(0x21, 0x7F))
    for key in ("k" * 255, printable):
        first = await create(client, owner, key)
        again = await create(client, owner, key)
        assert first.status_code == again.status_code == 201, again.text
        assert again.json() == first.json()
    assert len(await stored_titles(client, owner)) == 2


async def test_an_invalid_body_is_not_remembered(client: httpx.AsyncClient, owner: str) -> None:
    key = new_key()
    refused = await create(client, owner, key, {"title": ""})
    assert refused.status_code == 422
    accepted = await create(client, owner, key, {"title": "fixed"})
    assert accepted.status_code == 201, accepted.text
    assert await stored_titles(client, owner) == ["fixed"]


async def test_a_repeat_while_the_first_is_processed_is_409(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    store: TaskStore = app.state.store
    key = new_key()
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_create(who: OwnerId, fields: TaskCreate, transaction: Transaction) -> Task:
        entered.set()
        await release.wait()
        return await store.create(who, fields, transaction)

    first = asyncio.create_task(
        keys.create_once(OwnerId(owner), key, TaskCreate(title="buy milk"), slow_create)
    )
    await asyncio.wait_for(entered.wait(), timeout=30)
    if keys.database.dialect.name == "sqlite":
        # SQLite's one writer is inside the first request's transaction, which holds the
        # claim too: a repeat can only claim once it is over, and readers see neither the
        # claim nor the task until both commit.
        assert await key_rows(app, owner) == []
        assert await stored_titles(client, owner) == []
    else:
        repeat = await create(client, owner, key)
        assert repeat.status_code == 409, repeat.text
        assert repeat.headers["retry-after"] == "1"
        assert "Idempotency-Key" in repeat.json()["detail"]
    release.set()
    remembered = await asyncio.wait_for(first, timeout=30)
    again = await create(client, owner, key)
    assert again.status_code == 201
    assert again.content == remembered.body
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_a_create_that_failed_frees_its_key(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    key = new_key()

    async def failing_create(who: OwnerId, fields: TaskCreate, transaction: Transaction) -> Task:
        raise DatabaseUnavailable("the database went away")

    with pytest.raises(DatabaseUnavailable):
        await keys.create_once(OwnerId(owner), key, TaskCreate(title="buy milk"), failing_create)
    assert await key_rows(app, owner) == []
    retried = await create(client, owner, key)
    assert retried.status_code == 201, retried.text
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_a_claim_whose_lease_ran_out_is_taken_over_without_a_duplicate(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    """A server that died holding a key created nothing (task and response commit together):
    once the lease has run out, a repeat is processed as the first."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    key = new_key()
    claimed = await keys._try_claim(OwnerId(owner), key, "0" * 64)
    assert claimed is not None
    assert (await create(client, owner, key)).status_code in (409, 422)
    keys.clock = lambda: datetime.now(UTC) + keys.lease + timedelta(seconds=1)
    taken_over = await create(client, owner, key)
    assert taken_over.status_code == 201, taken_over.text
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_an_expired_key_is_forgotten_and_purged(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    owner, other = new_owner(), new_owner()
    key = new_key()
    assert (await create(client, owner, key)).status_code == 201
    keys.clock = lambda: datetime.now(UTC) + keys.ttl + timedelta(seconds=1)
    keys.purge_every = 1
    # Once expired, the key is new again: its repeat creates.
    assert (await create(client, owner, key)).status_code == 201
    assert await stored_titles(client, owner) == ["buy milk", "buy milk"]
    # Another user's keyed create purges expired rows (this owner's second row is fresh).
    assert (await create(client, other, new_key())).status_code == 201
    rows = await key_rows(app, owner)
    assert len(rows) == 1


async def test_the_remembered_row_holds_the_task_and_no_header(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    key = new_key()
    headers = {"X-Request-ID": "request-123", "Cookie": "session=secret-cookie"}
    response = await create(client, owner, key, **headers)
    assert response.status_code == 201
    [row] = await key_rows(app, owner)
    token = token_for(owner)["Authorization"].removeprefix("Bearer ")
    stored = " ".join(str(value) for value in row.values())
    for secret in (token, "Bearer", "secret-cookie", "request-123"):
        assert secret not in stored
    assert row["response_body"].encode() == response.content
    assert row["location"] == response.headers["location"]
    assert row["fingerprint"] != response.content.decode()
    assert len(row["fingerprint"]) == 64
