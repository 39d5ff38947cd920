"""Migrations keep every task: a database filled at each older revision survives the
upgrade to head, and every revision upgrades, downgrades and upgrades again."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from backend.main import create_app
from backend.settings import Settings
from backend.storage.factory import sync_url
from backend.storage.schema import alembic_config, head_revision
from backend.tasks.search import fold
from tests.conftest import DATABASES, SECRET, token_for
from tests.support.postgres import PostgresServer

OLD_COLUMNS = (
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "due_date",
    "created_at",
    "updated_at",
)
# How releases 1.0 to 1.4.2 wrote a timestamp on SQLite (the year unpadded before 1000).
OLD_SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
TITLES = ("Buy MILK", "été à Paris", "Straße", "x", "50% off", "emoji 🎉", "t" * 200)
TAG_SETS: tuple[list[str], ...] = (["home"], [], ["urgent", "work"], ["a-b_c", "home"])
SEEDED_TABLES = ("tasks", "task_tag")


@pytest.fixture(params=DATABASES, ids=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no table yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.create_database(f"migrated_{uuid.uuid4().hex[:12]}")


# The columns revision 0005 adds, and what every task written before it holds in them.
SCHEDULE_DEFAULTS: dict[str, object] = {
    "due_time": None,
    "time_zone": "UTC",
    "due_at": None,
    "recurrence": None,
    "next_occurrence_id": None,
    "remind_before_minutes": None,
    "remind_at": None,
}


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(url)
    (command.downgrade if down else command.upgrade)(config, revision)


def fill_revision_1(url: str) -> None:
    """Rows as revision 0001's table holds them, written as the 1.0 server wrote them."""
    engine = sa.create_engine(sync_url(url))
    sqlite = engine.dialect.name == "sqlite"
    start = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=UTC)
    rows = []
    for index in range(60):
        created = start + timedelta(minutes=index, microseconds=index)
        updated = created + timedelta(seconds=index % 3)
        rows.append(
            {
                "user_id": f"owner-{index % 3}",
                "title": TITLES[index % len(TITLES)],
                "description": None if index % 4 == 0 else f"details {index} ÉTÉ",
                "completed": index % 2 == 0,
                "due_date": None if index % 5 == 0 else date(2026, 12, 1 + index % 28),
                "created_at": created.strftime(OLD_SQLITE_TIMESTAMP_FORMAT) if sqlite else created,
                "updated_at": updated.strftime(OLD_SQLITE_TIMESTAMP_FORMAT) if sqlite else updated,
            }
        )
    columns = ", ".join(OLD_COLUMNS[1:])
    values = ", ".join(f":{name}" for name in OLD_COLUMNS[1:])
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO tasks ({columns}) VALUES ({values})"), rows)
        # A deleted task's id must stay unused after the migration too.
        connection.execute(sa.text("DELETE FROM tasks WHERE id = (SELECT max(id) FROM tasks)"))
    engine.dispose()


def fill_revision_2(url: str) -> None:
    """Rows as revision 0002's table holds them, written as the 1.1 server wrote them: each
    with a priority, tags (the table's triggers write task_tag) and the folded text."""
    engine = sa.create_engine(sync_url(url))
    sqlite = engine.dialect.name == "sqlite"
    start = datetime(2026, 12, 2, 9, 0, 0, 654321, tzinfo=UTC)
    rows = []
    for index in range(24):
        created = start + timedelta(minutes=index)
        title = f"{TITLES[index % len(TITLES)][:190]} {index}"
        description = None if index % 3 == 0 else f"Notes {index} ÉTÉ"
        tags = TAG_SETS[index % len(TAG_SETS)]
        rows.append(
            {
                "user_id": f"owner-{index % 3}",
                "title": title,
                "description": description,
                "completed": index % 2 == 1,
                "due_date": None if index % 4 == 0 else date(2027, 1, 1 + index),
                "created_at": created.strftime(OLD_SQLITE_TIMESTAMP_FORMAT) if sqlite else created,
                "updated_at": created.strftime(OLD_SQLITE_TIMESTAMP_FORMAT) if sqlite else created,
                "priority": 1 + index % 3,
                "tags": json.dumps(tags) if sqlite else tags,
                "title_folded": fold(title),
                "description_folded": fold(description or ""),
            }
        )
    columns = ", ".join(rows[0])
    values = ", ".join(f":{name}" for name in rows[0])
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO tasks ({columns}) VALUES ({values})"), rows)
    engine.dispose()


def fill(url: str) -> None:
    """Rows as the revision the database is at holds them: 0001's, or 0002's and later."""
    engine = sa.create_engine(sync_url(url))
    columns = {column["name"] for column in sa.inspect(engine).get_columns("tasks")}
    engine.dispose()
    fill_revision_1(url)
    if "priority" in columns:
        fill_revision_2(url)


def seeded_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the seeded tables the database has now, in key order, by table."""
    engine = sa.create_engine(sync_url(url))
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        present = sa.inspect(connection).get_table_names()
        for table in (name for name in SEEDED_TABLES if name in present):
            keys = ", ".join(sa.inspect(connection).get_pk_constraint(table)["constrained_columns"])
            rows = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY {keys}"))
            found[table] = [dict(row._mapping) for row in rows]
    engine.dispose()
    return found


def tags_of(row: dict[str, Any]) -> list[str]:
    """A row's tags: an array on PostgreSQL, JSON text on SQLite."""
    tags: list[str] = json.loads(row["tags"]) if isinstance(row["tags"], str) else row["tags"]
    return tags


def as_now(
    kept: dict[str, list[dict[str, Any]]], now: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """`kept`, cut to the tables and columns `now` has (a downgrade drops some)."""
    cut: dict[str, list[dict[str, Any]]] = {}
    for table, rows in now.items():
        columns = set(rows[0]) if rows else set()
        cut[table] = [{name: row[name] for name in columns} for row in kept[table]]
    return cut


def snapshot(url: str, columns: tuple[str, ...] = OLD_COLUMNS) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT {', '.join(columns)} FROM tasks ORDER BY id"))
        found = [tuple(row) for row in rows]
    engine.dispose()
    return found


@pytest.fixture
async def client_of() -> AsyncIterator[Any]:
    """Builds an API client on a given database URL."""
    clients: list[tuple[Any, httpx.AsyncClient]] = []

    async def build(url: str) -> httpx.AsyncClient:
        settings = Settings(
            database_url=url,
            better_auth_secret=SECRET,
            migrate_on_start=False,
            _env_file=None,
        )
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append((lifespan, client))
        return client

    yield build
    for lifespan, client in clients:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.mark.anyio
async def test_every_task_written_at_revision_1_survives_the_upgrade(
    empty_url: str, client_of: Any
) -> None:
    migrate(empty_url, "0001")
    fill_revision_1(empty_url)
    before = snapshot(empty_url)
    migrate(empty_url, "head")
    assert snapshot(empty_url) == before
    added = snapshot(empty_url, ("id", "priority", "tags", "title_folded", "description_folded"))
    assert [row[0] for row in added] == [row[0] for row in before]
    for (_, priority, tags, title_folded, description_folded), old in zip(
        added, before, strict=True
    ):
        assert priority == 2
        assert tags in ([], "[]")
        assert title_folded == fold(old[2])
        assert description_folded == fold(old[3] or "")

    client = await client_of(empty_url)
    owner = "owner-1"
    response = await client.get(
        f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
    )
    listed = response.json()
    assert {task["id"] for task in listed} == {row[0] for row in before if row[1] == owner}
    assert {(task["priority"], tuple(task["tags"])) for task in listed} == {("medium", ())}
    searched = await client.get(
        f"/api/{owner}/tasks", params={"q": "été paris", "limit": 100}, headers=token_for(owner)
    )
    wanted = {row[0] for row in before if row[1] == owner and row[2] == "été à Paris"}
    assert wanted
    assert {task["id"] for task in searched.json()} == wanted
    created = await client.post(
        f"/api/{owner}/tasks", json={"title": "new", "tags": ["fresh"]}, headers=token_for(owner)
    )
    assert created.status_code == 201
    assert created.json()["id"] > max(row[0] for row in before) + 1  # the deleted id stays free


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_url: str) -> None:
    """At each revision, rows as that revision holds them are written; going down one
    revision and up again keeps every value the lower revision has a column for."""
    assert revisions()[-1] == head_revision()
    previous = "base"
    for revision in revisions():
        migrate(empty_url, revision)
        if previous != "base":
            fill(empty_url)
        kept = seeded_rows(empty_url)
        migrate(empty_url, previous, down=True)
        down = seeded_rows(empty_url)
        assert down == as_now(kept, down)
        migrate(empty_url, revision)
        assert as_now(seeded_rows(empty_url), down) == down
        previous = revision


@pytest.mark.anyio
async def test_priorities_tags_and_search_text_of_revision_2_survive_head_and_back(
    empty_url: str, client_of: Any
) -> None:
    migrate(empty_url, "0001")
    fill_revision_1(empty_url)
    migrate(empty_url, "0002")
    fill_revision_2(empty_url)
    before = seeded_rows(empty_url)
    assert {row["priority"] for row in before["tasks"]} == {1, 2, 3}
    assert len(before["task_tag"]) == sum(len(tags_of(row)) for row in before["tasks"]) > 0
    migrate(empty_url, "head")
    after = seeded_rows(empty_url)
    # Later revisions add columns with defaults (0004: every task at version 1; 0005: due
    # on its day in UTC, no time, rule or reminder; 0007: no event yet, no reminder
    # claimed; 0008: no trace context); the columns of 0002 keep every value.
    assert {row.pop("version") for row in after["tasks"]} == {1}
    assert {(row.pop("event_sequence"), row.pop("reminded_at")) for row in after["tasks"]} == {
        (0, None)
    }
    assert {row.pop("trace_context") for row in after["tasks"]} == {None}
    assert {tuple(row.pop(name) for name in SCHEDULE_DEFAULTS) for row in after["tasks"]} == {
        tuple(SCHEDULE_DEFAULTS.values())
    }
    assert after == before

    client = await client_of(empty_url)
    owner = "owner-2"
    mine = [row for row in before["tasks"] if row["user_id"] == owner]
    for params, wanted in (
        ({"tag": ["home"]}, {row["id"] for row in mine if "home" in tags_of(row)}),
        ({"priority": "high"}, {row["id"] for row in mine if row["priority"] == 3}),
        ({"q": "notes été"}, {row["id"] for row in mine if "Notes" in (row["description"] or "")}),
    ):
        listed = await client.get(
            f"/api/{owner}/tasks", params={**params, "limit": 100}, headers=token_for(owner)
        )
        assert listed.status_code == 200, listed.text
        assert wanted
        assert {task["id"] for task in listed.json()} == wanted, params

    migrate(empty_url, "0002", down=True)
    assert seeded_rows(empty_url) == before


def test_downgrade_from_head_keeps_the_tasks_of_revision_1(empty_url: str) -> None:
    migrate(empty_url, "0001")
    fill_revision_1(empty_url)
    before = snapshot(empty_url)
    migrate(empty_url, "head")
    migrate(empty_url, "0001", down=True)
    assert snapshot(empty_url) == before
    engine = sa.create_engine(sync_url(empty_url))
    assert "task_tag" not in sa.inspect(engine).get_table_names()
    engine.dispose()
