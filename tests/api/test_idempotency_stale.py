"""Stale keys: a purge deletes the oldest PURGE_BATCH of its owner's, and a stale row
forgotten by one request is never the fresh row another request has put in its place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.queries.idempotency import PURGE_BATCH, IdempotencyKeys
from backend.storage.database import Row, Statement
from tests.api.test_idempotency import at, create, key_rows, new_key, stored_titles
from tests.conftest import new_owner

pytestmark = pytest.mark.anyio


async def test_a_purge_deletes_the_oldest_batch_of_expired_keys_and_no_more(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    """PURGE_BATCH + 1 expired keys, each sent a second before the one before it: the
    newest is the first in both the key's order and the order the rows were written, so
    only the expiry's order leaves it for the next purge."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    keys.purge_every = 10**9  # no purge until the test asks for one
    start = datetime.now(UTC)
    expired = [f"key-{number:03}" for number in range(PURGE_BATCH + 1)]
    for number, key in enumerate(expired):
        keys.clock = at(start - timedelta(seconds=number))
        assert (await create(client, owner, key)).status_code == 201
    keys.clock, keys.purge_every = at(start + keys.ttl), 1
    fresh, fresher = new_key(), new_key()
    assert (await create(client, owner, fresh)).status_code == 201
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((expired[0], fresh))
    assert (await create(client, owner, fresher)).status_code == 201
    assert sorted(row["key"] for row in await key_rows(app, owner)) == sorted((fresh, fresher))


async def test_a_purge_leaves_another_owners_key_of_the_same_name(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    keys: IdempotencyKeys = app.state.idempotency_keys
    other, key, start = new_owner(), new_key(), datetime.now(UTC)
    keys.clock, keys.purge_every = at(start), 10**9
    assert (await create(client, owner, key)).status_code == 201
    keys.clock = at(start + keys.ttl)  # the owner's key has expired; the other's is new
    theirs = await create(client, other, key)
    assert theirs.status_code == 201, theirs.text
    keys.purge_every, purging = 1, new_key()
    assert (await create(client, owner, purging)).status_code == 201
    assert [row["key"] for row in await key_rows(app, owner)] == [purging]
    assert [row["key"] for row in await key_rows(app, other)] == [key]
    again = await create(client, other, key)
    assert (again.status_code, again.content) == (201, theirs.content)
    assert await stored_titles(client, other) == ["buy milk"]


async def test_a_stale_key_another_request_renewed_meanwhile_is_replayed_not_forgotten(
    app: FastAPI, client: httpx.AsyncClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two repeats of an expired key: the second reads the stale row, then, before it
    forgets it, the first forgets it and creates anew. The second then forgets nothing
    (the row is fresh again) and replays the first's response: one task, not two."""
    keys: IdempotencyKeys = app.state.idempotency_keys
    key, sent_at = new_key(), datetime.now(UTC)
    keys.clock, keys.purge_every = at(sent_at), 10**9
    assert (await create(client, owner, key)).status_code == 201
    keys.clock = at(sent_at + keys.ttl)
    read, reads = keys.database.fetch, 0
    renewed: list[httpx.Response] = []

    async def read_then_let_another_repeat_renew_it(
        statement: Statement, params: Mapping[str, Any]
    ) -> list[Row]:
        nonlocal reads
        rows = await read(statement, params)
        reads += 1
        if reads == 1:  # the late repeat's read; the other's, and the test's, are left alone
            assert rows[0]["stale"]
            renewed.append(await create(client, owner, key))
        return rows

    monkeypatch.setattr(keys.database, "fetch", read_then_let_another_repeat_renew_it)
    late = await create(client, owner, key)
    assert renewed[0].status_code == late.status_code == 201, late.text
    assert late.content == renewed[0].content
    assert late.headers["location"] == renewed[0].headers["location"]
    assert await stored_titles(client, owner) == ["buy milk"] * 2
