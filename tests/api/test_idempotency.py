"""Idempotency-Key on createTask: a repeat gets the first response and creates nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from backend.queries.idempotency import (
    IdempotencyKeys,
    Outcome,
    Remembered,
    fingerprint_of,
)
from backend.queries.store import OwnerId
from backend.storage.database import Database, DatabaseUnavailable, Statement, Transaction
from backend.storage.models import IdempotencyKeyRecord
from generated.models import Task, TaskCreate, TaskPriority
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


def watch_transactions(
    monkeypatch: pytest.MonkeyPatch, database: Database, events: list[str]
) -> asyncio.Event:
    """From now on, each transaction records when it asks for the writer and when it has
    it; the event is set at the first request."""
    opened = database.transaction
    asked = asyncio.Event()

    @contextlib.asynccontextmanager
    async def watched() -> AsyncIterator[Transaction]:
        events.append("the repeat asks for the writer")
        asked.set()
        async with opened() as transaction:
            events.append("the repeat has the writer")
            yield transaction

    monkeypatch.setattr(database, "transaction", watched)
    return asked


async def test_a_repeat_while_the_first_is_processed_is_409_or_waits_for_it(
    app: FastAPI, client: httpx.AsyncClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request's write is held open: on PostgreSQL a repeat is answered 409 at
    once; on SQLite, whose writes run one at a time, it waits and replays the response."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    key, fields = new_key(), TaskCreate(title="buy milk")
    owner_id = OwnerId(owner)
    events: list[str] = []
    async with keys.database.transaction() as transaction:
        first = await keys.create_in(transaction, owner_id, key, fingerprint_of(fields), fields)
        assert isinstance(first, Remembered)
        if keys.database.dialect.name == "sqlite":
            # Readers see neither the key nor the task until the transaction commits.
            assert await key_rows(app, owner) == []
            assert await stored_titles(client, owner) == []
            asked = watch_transactions(monkeypatch, keys.database, events)
            waiting = asyncio.create_task(create(client, owner, key))
            await asyncio.wait_for(asked.wait(), timeout=30)
            assert not waiting.done()
        else:
            repeat = await create(client, owner, key)
            assert repeat.status_code == 409, repeat.text
            assert repeat.headers["retry-after"] == "1"
            assert "Idempotency-Key" in repeat.json()["detail"]
    if keys.database.dialect.name == "sqlite":
        events.append("the first commits")
        replayed = await asyncio.wait_for(waiting, timeout=30)
        assert replayed.status_code == 201, replayed.text
        assert replayed.content == first.body
        # The repeat was sent while the first was open, and waited for its commit.
        assert events == [
            "the repeat asks for the writer",
            "the first commits",
            "the repeat has the writer",
        ]
    again = await create(client, owner, key)
    assert again.status_code == 201
    assert again.content == first.body
    assert again.headers["location"] == first.location
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_a_key_forgotten_between_the_write_and_the_read_is_tried_again(
    app: FastAPI, client: httpx.AsyncClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row that made the write fail can be gone by the time it is read (purged, or a
    stale claim forgotten by another request): the create is then simply tried again."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    first_try = keys._create_first
    attempts: list[str] = []

    async def taken_the_first_time(
        owner_id: OwnerId, key: str, fingerprint: str, fields: TaskCreate
    ) -> Remembered | Outcome:
        attempts.append(key)
        if len(attempts) == 1:
            return Outcome.KEY_TAKEN
        return await first_try(owner_id, key, fingerprint, fields)

    monkeypatch.setattr(keys, "_create_first", taken_the_first_time)
    key = new_key()
    response = await create(client, owner, key)
    assert response.status_code == 201, response.text
    assert attempts == [key, key]
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_a_create_that_failed_stored_neither_task_nor_key(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    key, fields = new_key(), TaskCreate(title="buy milk")
    with pytest.raises(DatabaseUnavailable):
        async with keys.database.transaction() as transaction:
            await keys.create_in(transaction, OwnerId(owner), key, fingerprint_of(fields), fields)
            raise DatabaseUnavailable("the database went away before the commit")
    assert await key_rows(app, owner) == []
    assert await stored_titles(client, owner) == []
    retried = await create(client, owner, key)
    assert retried.status_code == 201, retried.text
    assert await stored_titles(client, owner) == ["buy milk"]


async def claim_as_an_earlier_server(
    app: FastAPI, owner: str, key: str, until: datetime, answered: Remembered | None = None
) -> None:
    """The row an earlier server build writes while it processes a keyed create: a claim,
    a lease, no response yet (one may still serve beside this one during a deploy); once
    it answered, the response too, the lease left as it was."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    now = datetime.now(UTC)
    response = {}
    if answered is not None:
        response = {
            "status": answered.status,
            "response_body": answered.body.decode(),
            "location": answered.location,
        }
    claim = insert(IdempotencyKeyRecord.__table__).values(  # type: ignore[attr-defined]
        user_id=owner,
        key=key,
        fingerprint=fingerprint_of(TaskCreate(title="buy milk")),
        claim="0" * 32,
        claimed_until=until,
        created_at=now,
        expires_at=now + keys.ttl,
        **response,
    )
    compiled = claim.compile(dialect=keys.database.dialect)
    await keys.database.write(
        Statement(str(compiled), {}), {**compiled.params, "claimed_until": until}
    )


async def test_an_earlier_servers_claim_is_respected_then_taken_over(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    """While its lease holds, the claim is a request in flight (409); once it ran out, the
    server that held it died before its transaction committed: the key is new again."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    key = new_key()
    await claim_as_an_earlier_server(app, owner, key, datetime.now(UTC) + timedelta(minutes=5))
    held = await create(client, owner, key)
    assert held.status_code == 409, held.text
    keys.clock = lambda: datetime.now(UTC) + timedelta(minutes=6)
    taken_over = await create(client, owner, key)
    assert taken_over.status_code == 201, taken_over.text
    again = await create(client, owner, key)
    assert again.content == taken_over.content
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_an_expired_key_is_forgotten_and_purged(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    reused, left, fresh = new_key(), new_key(), new_key()
    keys.purge_every = 10**9  # no purge until this test asks for one
    for key in (reused, left):
        assert (await create(client, owner, key)).status_code == 201
    keys.clock = lambda: datetime.now(UTC) + keys.ttl + timedelta(seconds=1)
    # Once expired, the key is new again: its repeat creates.
    assert (await create(client, owner, reused)).status_code == 201
    assert await stored_titles(client, owner) == ["buy milk"] * 3
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((reused, left))
    # A keyed create that purges deletes the expired row no request asked for again; the
    # rows of the reused key and of this create are fresh and stay.
    keys.purge_every = 1
    assert (await create(client, owner, fresh)).status_code == 201
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((reused, fresh))


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
    assert Task.model_validate_json(row["response_body"]) == Task.model_validate(response.json())
    assert row["location"] == response.headers["location"]
    assert row["fingerprint"] != response.content.decode()
    assert len(row["fingerprint"]) == 64


async def test_an_earlier_servers_lease_ends_at_its_end_and_its_answer_stays(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    until = datetime.now(UTC) + timedelta(minutes=5)
    await claim_as_an_earlier_server(app, owner, running := new_key(), until)
    task = Task(
        id=1,
        user_id=owner,
        title="answered before",
        description=None,
        completed=False,
        due_date=None,
        priority=TaskPriority.MEDIUM,
        tags=[],
        created_at=until,
        updated_at=until,
        due_time=None,
        time_zone="UTC",
        due_at=None,
        recurrence=None,
        next_occurrence_id=None,
        remind_before_minutes=None,
        remind_at=None,
    )
    answer = Remembered(201, task.model_dump_json().encode(), f"/api/{owner}/tasks/1")
    await claim_as_an_earlier_server(app, owner, answered := new_key(), until, answer)
    keys.clock = lambda: until
    taken_over = await create(client, owner, running)
    assert taken_over.status_code == 201, taken_over.text
    replayed = await create(client, owner, answered)
    assert (replayed.status_code, replayed.content) == (201, answer.body)
    assert await stored_titles(client, owner) == ["buy milk"]


async def test_two_users_may_send_the_same_key(client: httpx.AsyncClient, owner: str) -> None:
    other, key = new_owner(), new_key()
    mine = await create(client, owner, key, {"title": "mine"})
    theirs = await create(client, other, key, {"title": "theirs"})
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert theirs.headers["location"].startswith(f"/api/{other}/tasks/")
    assert await stored_titles(client, owner) == ["mine"]
    assert await stored_titles(client, other) == ["theirs"]


async def test_a_key_expires_and_is_purged_at_its_expiry_exactly(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    sent_at = datetime.now(UTC).replace(microsecond=500000)
    keys.clock, keys.purge_every = (lambda: sent_at), 10**9
    reused, left, fresh = new_key(), new_key(), new_key()
    for key in (reused, left):
        assert (await create(client, owner, key)).status_code == 201
    keys.clock = lambda: sent_at + keys.ttl
    assert (await create(client, owner, reused)).status_code == 201
    assert await stored_titles(client, owner) == ["buy milk"] * 3
    keys.purge_every = 1
    assert (await create(client, owner, fresh)).status_code == 201
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((reused, fresh))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def test_one_keyed_create_in_purge_every_purges(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    """Counted from the server's start: the second and fourth creates purge, not the third."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    start = datetime.now(UTC)
    keys.purge_every = 2
    first, second, third = new_key(), new_key(), new_key()
    for number, key in enumerate((first, second, third)):
        keys.clock = at(start + number * (keys.ttl + timedelta(seconds=1)))
        assert (await create(client, owner, key)).status_code == 201
        if number == 1:
            assert [row["key"] for row in await key_rows(app, owner)] == [second]
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((second, third))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_lock_a_create_holds_is_its_owners_and_keys_alone(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    """PostgreSQL: while a keyed create is open, the same key of another user and another
    key of the same user create at once; only the same user's same key is answered 409."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    key, fields = new_key(), TaskCreate(title="held")
    async with keys.database.transaction() as transaction:
        held = await keys.create_in(
            transaction, OwnerId(owner), key, fingerprint_of(fields), fields
        )
        assert isinstance(held, Remembered)
        assert (await create(client, new_owner(), key)).status_code == 201
        assert (await create(client, owner, new_key())).status_code == 201
        assert (await create(client, owner, key)).status_code == 409
