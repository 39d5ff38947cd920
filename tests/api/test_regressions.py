"""Regression tests: each one reproduces a defect found once, without a live server."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from backend.auth import mint_token
from backend.db import Statement, connect
from backend.filters import TaskFilters
from backend.main import create_app
from backend.schema import head_revision, upgrade_to_head
from backend.settings import Settings
from backend.store import OwnerId, TaskStore
from generated.models import TaskSort, TaskStatusFilter
from tests.conftest import SECRET, make_task, new_owner, token_for

MIGRATORS = 8


def _migrate_after(barrier: multiprocessing.synchronize.Barrier, url: str) -> None:
    barrier.wait(timeout=30)
    upgrade_to_head(url)


def test_workers_migrating_one_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    """`uvicorn --workers N` on SQLite migrates in every worker at start; two of them used to
    both find no alembic_version table, and the second died with 'table already exists'."""
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    context = multiprocessing.get_context("fork")  # workers already hold alembic: tight race
    barrier = context.Barrier(MIGRATORS)
    workers = [
        context.Process(target=_migrate_after, args=(barrier, url)) for _ in range(MIGRATORS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * MIGRATORS
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert [row[0] for row in versions] == [head_revision()]
        assert connection.execute(sqlalchemy.text("SELECT count(*) FROM tasks")).scalar() == 0
    engine.dispose()


# --- found by contract fuzzing (tests/contract), on both databases -----------------------


def assert_invalid(response: httpx.Response, location: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert location in {issue["location"] for issue in problem["errors"]}
    return problem


@pytest.mark.anyio
async def test_problem_instance_of_a_non_ascii_path_is_a_uri_reference(
    client: httpx.AsyncClient, owner: str
) -> None:
    # The decoded path was echoed as is, and "/api/\u00d7\u00f8/tasks/1" is no URI reference.
    response = await client.get("/api/%C3%97%C3%B8/tasks/1", headers=token_for(owner))
    problem = assert_invalid(response, "path.user_id")
    assert problem["instance"] == "/api/%C3%97%C3%B8/tasks/1"


@pytest.mark.parametrize(
    "body",
    [{"title": "a", "due_date": 0}, {"title": "a", "due_date": 1700000000.5}],
    ids=["integer-date", "float-date"],
)
@pytest.mark.anyio
async def test_create_rejects_a_number_as_due_date(
    client: httpx.AsyncClient, owner: str, body: dict[str, Any]
) -> None:
    # Pydantic's lax mode read 0 as 1970-01-01 and stored the task.
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert_invalid(response, "body.due_date")
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == []


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"due_date": 0}, "body.due_date"),
        ({"completed": 1}, "body.completed"),
        ({"completed": "true"}, "body.completed"),
    ],
    ids=["integer-date", "integer-boolean", "string-boolean"],
)
@pytest.mark.anyio
async def test_update_rejects_values_of_another_json_type(
    client: httpx.AsyncClient, owner: str, changes: dict[str, Any], location: str
) -> None:
    task = await make_task(client, owner, due_date="2030-01-02")
    url = f"/api/{owner}/tasks/{task['id']}"
    response = await client.put(url, json=changes, headers=token_for(owner))
    assert_invalid(response, location)
    stored = await client.get(url, headers=token_for(owner))
    assert stored.json() == task


@pytest.mark.anyio
async def test_a_body_that_is_not_utf8_is_invalid_not_a_bad_request(
    client: httpx.AsyncClient, owner: str
) -> None:
    # FastAPI answered 400, a status the contract does not document.
    headers = {**token_for(owner), "Content-Type": "application/json"}
    response = await client.post(f"/api/{owner}/tasks", content=b"\xff\xfe{", headers=headers)
    assert_invalid(response, "body")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"title": "a\u0000b"}, "body.title"),
        ({"title": "ok", "description": "tail\u0000"}, "body.description"),
    ],
    ids=["title", "description"],
)
@pytest.mark.anyio
async def test_nul_in_text_is_invalid_on_every_database(
    client: httpx.AsyncClient, owner: str, body: dict[str, Any], location: str
) -> None:
    # PostgreSQL cannot store U+0000 in text: create and update answered 500 there, while
    # SQLite stored it. The contract's text fields now exclude it (pattern), so both 422.
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert_invalid(response, location)
    task = await make_task(client, owner, title="kept")
    url = f"/api/{owner}/tasks/{task['id']}"
    response = await client.put(url, json=body, headers=token_for(owner))
    assert_invalid(response, location)
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == [task]


def test_the_access_log_does_not_record_a_token_sent_in_the_query(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn's access log prints the path with its query string, so a client that sent
    # ?access_token=<jwt> (refused with 401) had its token written to the server's log.
    create_app(settings)
    token = mint_token("someone", SECRET.encode())
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    path = f"/api/someone/tasks?status=all&access_token={token}&cursor={token}"
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 401
    )
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text
    assert "/api/someone/tasks?status=all&access_token=[redacted]&cursor=[redacted]" in caplog.text


@pytest.mark.anyio
async def test_an_invalid_path_is_reported_with_an_invalid_body(
    client: httpx.AsyncClient, owner: str
) -> None:
    # The strict JSON check of the body ran before the path was validated and answered 422
    # for the body alone, hiding that ":" is no user id (and so no other user's either).
    response = await client.post("/api/%3A/tasks", json={}, headers=token_for(owner))
    problem = assert_invalid(response, "path.user_id")
    assert {issue["location"] for issue in problem["errors"]} == {"path.user_id", "body.title"}


@pytest.mark.anyio
async def test_a_content_length_that_is_not_a_number_is_an_invalid_header(
    client: httpx.AsyncClient, owner: str
) -> None:
    """Contract fuzzing, in-process: `Content-Length: abc` with a tiny body got 413 ("larger
    than 65536 bytes"). It is an invalid header, named as such, and nothing is stored."""
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b'{"title": "small"}',
        headers={**token_for(owner), "content-type": "application/json", "content-length": "abc"},
    )
    problem = assert_invalid(response, "header.content-length")
    assert "larger" not in str(problem["detail"])
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == []


@pytest.mark.anyio
async def test_lists_with_a_word_or_a_tag_are_planned_for_their_values(postgres_url: str) -> None:
    """Prepared after 5 calls, a list with a word got PostgreSQL's generic plan, made for any
    word: for a word in 10 of 1,000,000 tasks it read the owner's whole range (560-770 ms a
    call against 0.4 ms). Such statements are never prepared; the others still are."""
    settings = Settings(
        database_url=postgres_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        database_pool_size=1,  # every statement on one connection, whose prepared ones we read
        _env_file=None,
    )
    database = connect(settings)
    store = TaskStore(database)
    owner = OwnerId(new_owner())
    plain = TaskFilters.of(TaskStatusFilter.ALL, None, None, None, None, None)
    worded = TaskFilters.of(TaskStatusFilter.ALL, None, None, None, None, "zebra")
    tagged = TaskFilters.of(TaskStatusFilter.ALL, None, ["work"], None, None, None)
    try:
        for _ in range(8):
            for filters in (plain, worded, tagged):
                await store.list_tasks(owner, filters, TaskSort.CREATED, 20, None)
        prepared = await database.fetch(
            Statement("SELECT statement FROM pg_prepared_statements", {}), {}
        )
    finally:
        await database.close()
    texts = [row["statement"] for row in prepared]
    assert any("FROM tasks" in text for text in texts), "the plain list is prepared"
    assert not [text for text in texts if "folded" in text or "task_tag" in text]
