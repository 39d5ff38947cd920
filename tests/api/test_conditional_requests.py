"""ETag, If-Match and If-None-Match (contract 1.3.0), in process on each database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from backend.main import create_app
from backend.settings import Settings
from backend.tasks.preconditions import Expected, PreconditionFailed, etag_of, expected_of
from tests.conftest import SECRET, new_owner, token_for

pytestmark = pytest.mark.anyio


async def create(client: httpx.AsyncClient, owner: str, **fields: Any) -> httpx.Response:
    body = {"title": "buy milk", **fields}
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert response.status_code == 201, response.text
    return response


def task_url(owner: str, task_id: int, suffix: str = "") -> str:
    return f"/api/{owner}/tasks/{task_id}{suffix}"


async def read(client: httpx.AsyncClient, owner: str, task_id: int) -> httpx.Response:
    response = await client.get(task_url(owner, task_id), headers=token_for(owner))
    assert response.status_code == 200, response.text
    return response


def with_tag(owner: str, header: str, tag: str) -> dict[str, str]:
    return {**token_for(owner), header: tag}


async def test_every_response_carrying_a_task_has_a_strong_tag_that_moves_with_it(
    client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    created = await create(client, owner)
    task_id = created.json()["id"]
    tags = [created.headers["etag"]]
    assert tags[0] == '"1"'
    assert (await read(client, owner, task_id)).headers["etag"] == tags[0]
    same_body = {"title": "buy milk"}
    for _ in range(2):  # the same write twice: a row version, not a hash of the body
        updated = await client.put(
            task_url(owner, task_id), json=same_body, headers=token_for(owner)
        )
        tags.append(updated.headers["etag"])
    toggled = await client.patch(task_url(owner, task_id, "/complete"), headers=token_for(owner))
    tags.append(toggled.headers["etag"])
    assert len(set(tags)) == len(tags), tags
    # Setting the completion it already has changes nothing: neither updated_at nor the tag.
    unchanged = await client.patch(
        task_url(owner, task_id, "/complete"), json={"completed": True}, headers=token_for(owner)
    )
    assert unchanged.headers["etag"] == tags[-1]
    assert unchanged.json()["updated_at"] == toggled.json()["updated_at"]
    assert (await read(client, owner, task_id)).headers["etag"] == tags[-1]
    assert "version" not in unchanged.json()  # the version is the tag's, never a field


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"title": "oat milk"}), ("PATCH", "/complete", None), ("DELETE", "", None)],
    ids=["update", "toggle", "delete"],
)
async def test_a_write_with_an_old_tag_is_412_and_changes_nothing(
    client: httpx.AsyncClient, method: str, suffix: str, body: dict[str, str] | None
) -> None:
    owner = new_owner()
    task_id = (await create(client, owner)).json()["id"]
    old = (await read(client, owner, task_id)).headers["etag"]
    changed = await client.put(
        task_url(owner, task_id), json={"description": "2 litres"}, headers=token_for(owner)
    )
    before = await read(client, owner, task_id)
    refused = await client.request(
        method,
        task_url(owner, task_id, suffix),
        json=body,
        headers=with_tag(owner, "If-Match", old),
    )
    assert refused.status_code == 412, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "changed since it was read" in refused.json()["detail"]
    after = await read(client, owner, task_id)
    assert after.json() == before.json() and after.headers["etag"] == changed.headers["etag"]

    accepted = await client.request(
        method,
        task_url(owner, task_id, suffix),
        json=body,
        headers=with_tag(owner, "If-Match", f'"0", {changed.headers["etag"]}'),
    )
    assert accepted.status_code in (200, 204), accepted.text


async def test_if_match_star_a_weak_tag_a_missing_and_a_foreign_task(
    client: httpx.AsyncClient,
) -> None:
    owner, other = new_owner(), new_owner()
    task_id = (await create(client, owner)).json()["id"]
    tag = (await read(client, owner, task_id)).headers["etag"]
    body = {"title": "x"}
    star = await client.put(
        task_url(owner, task_id), json=body, headers=with_tag(owner, "If-Match", "*")
    )
    assert star.status_code == 200
    weak = await client.put(
        task_url(owner, task_id),
        json=body,
        headers=with_tag(owner, "If-Match", f"W/{star.headers['etag']}"),
    )
    assert weak.status_code == 412  # If-Match compares strongly (RFC 9110 13.1.1)
    foreign_id = (await create(client, other)).json()["id"]
    for missing in (foreign_id, 9_000_000_000):
        for header in ("*", tag):
            answer = await client.put(
                task_url(owner, missing), json=body, headers=with_tag(owner, "If-Match", header)
            )
            assert answer.status_code == 412, (missing, header)
            assert answer.json()["detail"].startswith(f"task {missing} changed")
        plain = await client.put(task_url(owner, missing), json=body, headers=token_for(owner))
        assert plain.status_code == 404
    assert (await read(client, other, foreign_id)).json()["title"] == "buy milk"


async def test_a_malformed_if_match_is_422_naming_the_header(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    task_id = (await create(client, owner)).json()["id"]
    answer = await client.put(
        task_url(owner, task_id), json={"title": "x"}, headers=with_tag(owner, "If-Match", "3")
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["location"] == "header.If-Match"


async def test_if_none_match_is_304_until_the_task_changes(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    task_id = (await create(client, owner)).json()["id"]
    tag = (await read(client, owner, task_id)).headers["etag"]
    for header in (tag, f"W/{tag}", f'"7", {tag}', "*"):
        cached = await client.get(
            task_url(owner, task_id), headers=with_tag(owner, "If-None-Match", header)
        )
        assert cached.status_code == 304, header
        assert cached.headers["etag"] == tag and cached.content == b""
    await client.patch(task_url(owner, task_id, "/complete"), headers=token_for(owner))
    fresh = await client.get(
        task_url(owner, task_id), headers=with_tag(owner, "If-None-Match", tag)
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != tag and fresh.json()["completed"] is True
    gone = await client.get(
        task_url(owner, 9_000_000_000), headers=with_tag(owner, "If-None-Match", "*")
    )
    assert gone.status_code == 404


async def test_two_clients_write_with_the_tag_they_read_one_wins(
    client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    task_id = (await create(client, owner)).json()["id"]
    tag = (await read(client, owner, task_id)).headers["etag"]
    answers = await asyncio.gather(
        *(
            client.put(
                task_url(owner, task_id),
                json={"title": title},
                headers=with_tag(owner, "If-Match", tag),
            )
            for title in ("from the laptop", "from the phone")
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 412]
    winner = next(answer for answer in answers if answer.status_code == 200)
    stored = await read(client, owner, task_id)
    assert stored.json() == winner.json() and stored.headers["etag"] == winner.headers["etag"]


@contextlib.asynccontextmanager
async def client_of(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of its own on this database, with these settings."""
    app: FastAPI = create_app(
        Settings(
            database_url=database_url,
            better_auth_secret=SECRET,
            migrate_on_start=False,
            _env_file=None,
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def strict_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(database_url, require_if_match=True) as client:
        yield client


async def test_with_if_match_required_a_write_without_it_is_428_and_changes_nothing(
    strict_client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    task_id = (await create(strict_client, owner)).json()["id"]  # creating needs no tag
    before = await read(strict_client, owner, task_id)
    for method, suffix, body in (
        ("PUT", "", {"title": "x"}),
        ("PATCH", "/complete", None),
        ("DELETE", "", None),
    ):
        refused = await strict_client.request(
            method, task_url(owner, task_id, suffix), json=body, headers=token_for(owner)
        )
        assert refused.status_code == 428, (method, refused.text)
        assert "requires If-Match" in refused.json()["detail"]
    after = await read(strict_client, owner, task_id)
    assert after.json() == before.json()
    accepted = await strict_client.put(
        task_url(owner, task_id),
        json={"title": "x"},
        headers=with_tag(owner, "If-Match", before.headers["etag"]),
    )
    assert accepted.status_code == 200


async def test_a_write_of_the_previous_release_still_changes_the_tag(postgres_url: str) -> None:
    """During a rolling release, servers of 1.2.0 write tasks without knowing `version`:
    their writes move updated_at, and the tag must move with it (PostgreSQL's trigger; an
    SQLite file has one server)."""
    async with client_of(postgres_url) as client:
        owner = new_owner()
        task_id = (await create(client, owner)).json()["id"]
        tag = (await read(client, owner, task_id)).headers["etag"]
        engine = create_engine(postgres_url)
        with engine.begin() as connection:  # the previous release's UPDATE, as it wrote it
            connection.execute(
                text("UPDATE tasks SET title = 'by 1.2.0', updated_at = now() WHERE id = :id"),
                {"id": task_id},
            )
        engine.dispose()
        moved = await read(client, owner, task_id)
        assert moved.json()["title"] == "by 1.2.0" and moved.headers["etag"] != tag
        stale = await client.put(
            task_url(owner, task_id), json={"title": "x"}, headers=with_tag(owner, "If-Match", tag)
        )
        assert stale.status_code == 412


async def test_a_replayed_keyed_create_carries_the_tag_of_the_task_it_created(
    client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    headers = {**token_for(owner), "Idempotency-Key": f"key-{owner}"}
    first = await client.post(f"/api/{owner}/tasks", json={"title": "once"}, headers=headers)
    again = await client.post(f"/api/{owner}/tasks", json={"title": "once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    # The tag is the created state's: a write with it succeeds while nothing changed.
    written = await client.put(
        task_url(owner, first.json()["id"]),
        json={"title": "changed"},
        headers=with_tag(owner, "If-Match", again.headers["etag"]),
    )
    assert written.status_code == 200


async def test_a_tag_past_the_largest_version_is_412_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    """Versions are BIGINT: a tag of 19 digits above 2**63 - 1 names no version (412), and is
    never sent to the database, where it would not fit."""
    owner = new_owner()
    task_id = (await create(client, owner)).json()["id"]
    for tag in ('"9999999999999999999"', '"99999999999999999999999"', '"1", "9999999999999999999"'):
        answer = await client.put(
            task_url(owner, task_id), json={"title": "x"}, headers=with_tag(owner, "If-Match", tag)
        )
        expected = 200 if tag.startswith('"1"') else 412
        assert answer.status_code == expected, (tag, answer.text)


@pytest.mark.parametrize(
    ("if_match", "versions"),
    [
        ('"1"', (1,)),
        ('"01"', ()),  # strong comparison is character by character: "01" is not "1"
        ('"0"', ()),
        ('"000000000000000001", "7"', (7,)),
        ('"999999999999999999"', (999_999_999_999_999_999,)),  # 18 digits: any stored version
        ('"1000000000000000000"', ()),  # 19 digits: none the server has reached
        ('W/"3", "4", "x4", "4"', (4,)),
        ("*", None),
    ],
)
def test_if_match_names_the_versions_whose_tag_it_repeats_exactly(
    if_match: str, versions: tuple[int, ...] | None
) -> None:
    assert expected_of(if_match) == Expected(versions)
    if versions:
        assert all(etag_of(version) in if_match for version in versions)


def test_a_failed_precondition_names_the_task() -> None:
    failed = PreconditionFailed(7)
    assert (failed.task_id, str(failed)) == (7, "task 7 has none of the tags of If-Match")
