"""Regression tests: each one reproduces a defect found once, without a live server."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from alembic import command

from backend.auth.tokens import mint_token
from backend.main import create_app
from backend.queries.store import OwnerId, TaskStore
from backend.settings import Settings
from backend.storage.database import Statement
from backend.storage.factory import connect
from backend.storage.schema import alembic_config, head_revision, upgrade_to_head
from backend.tasks.filters import TaskFilters
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


@pytest.mark.anyio
@pytest.mark.parametrize("tag", ['"01"', '"000000000000000001"', '"+1"', 'W/"1"'])
async def test_if_match_compares_strongly_character_by_character(
    client: httpx.AsyncClient, tag: str
) -> None:
    """`If-Match: "01"` used to match the ETag `"1"` (the tag was read as a number)."""
    owner = new_owner()
    task = await make_task(client, owner)
    url = f"/api/{owner}/tasks/{task['id']}"
    refused = await client.put(
        url, json={"title": "b"}, headers={**token_for(owner), "If-Match": tag}
    )
    assert refused.status_code == 412, refused.text
    assert (await client.get(url, headers=token_for(owner))).json()["title"] == "a task"
    matched = await client.put(
        url, json={"title": "b"}, headers={**token_for(owner), "If-Match": '"1"'}
    )
    assert matched.status_code == 200, matched.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "zone", ["localtime", "Factory", "posixrules", "posix/Europe/Berlin", "right/UTC"]
)
async def test_a_host_dependent_zone_name_is_not_a_time_zone(
    client: httpx.AsyncClient, zone: str
) -> None:
    """`localtime` (the host's own zone) and `Factory` were accepted as IANA names."""
    owner = new_owner()
    response = await client.post(
        f"/api/{owner}/tasks",
        json={"title": "t", "due_date": "2027-01-01", "time_zone": zone},
        headers=token_for(owner),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "location": "body.time_zone",
            "message": f"`{zone}` is not an IANA time zone name (such as Europe/Berlin or UTC)",
        }
    ]


# Moments as release 1.4.2 wrote them on SQLite (strftime's %Y: the year unpadded).
UNPADDED = {"due_at": "362-06-25 09:00:00.000000", "remind_at": "362-06-25 08:00:00.000000"}
PADDED = {"due_at": "0362-06-25 09:00:00.000000", "remind_at": "0362-06-25 08:00:00.000000"}


def _insert_as_release_1_4_2(url: str, owner: str) -> int:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        inserted = connection.execute(
            sqlalchemy.text(
                "INSERT INTO tasks (user_id, title, created_at, updated_at, tags, due_date,"
                " due_time, due_at, remind_before_minutes, remind_at) VALUES (:owner, 'old',"
                " '2026-12-01 08:00:00.000000', '2026-12-01 08:00:00.000000', '[]',"
                " '0362-06-25', '09:00', :due_at, 60, :remind_at) RETURNING id"
            ),
            {"owner": owner, **UNPADDED},
        ).scalar_one()
    engine.dispose()
    return int(inserted)


def _stored_moments(url: str, task_id: int) -> dict[str, str]:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            sqlalchemy.text("SELECT due_at, remind_at FROM tasks WHERE id = :id"), {"id": task_id}
        ).one()
    engine.dispose()
    return {"due_at": row.due_at, "remind_at": row.remind_at}


async def _read_back(url: str, owner: str, task_id: int) -> None:
    """The owner's every list and the get read the task, with its moments."""
    app = create_app(Settings(database_url=url, better_auth_secret=SECRET, _env_file=None))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for sort in TaskSort:
                listed = await client.get(
                    f"/api/{owner}/tasks", params={"sort": sort.value}, headers=token_for(owner)
                )
                assert [task["id"] for task in listed.json()] == [task_id], sort
            got = (
                await client.get(f"/api/{owner}/tasks/{task_id}", headers=token_for(owner))
            ).json()
    assert (got["due_at"], got["remind_at"]) == ("0362-06-25T09:00:00Z", "0362-06-25T08:00:00Z")


@pytest.mark.anyio
async def test_a_sqlite_row_of_release_1_4_2_before_the_year_1000_is_padded_by_the_upgrade(
    tmp_path: Path,
) -> None:
    """Release 1.4.2 stored `362-06-25 ...`, which no list of the owner could read again."""
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0005")
    owner = new_owner()
    task_id = _insert_as_release_1_4_2(url, owner)
    upgrade_to_head(url)
    assert _stored_moments(url, task_id) == PADDED
    await _read_back(url, owner, task_id)


@pytest.mark.anyio
async def test_a_sqlite_row_written_unpadded_after_the_upgrade_still_reads(
    tmp_path: Path,
) -> None:
    """A 1.4.2 server run again on an upgraded file (a rollback) writes the old form."""
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    upgrade_to_head(url)
    owner = new_owner()
    task_id = _insert_as_release_1_4_2(url, owner)
    assert _stored_moments(url, task_id) == UNPADDED
    await _read_back(url, owner, task_id)
