"""Migrations keep every task: a database filled at each older revision survives the
upgrade to head, and every revision upgrades, downgrades and upgrades again."""

from __future__ import annotations

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

from backend.db import sync_url
from backend.main import create_app
from backend.schema import alembic_config, head_revision
from backend.search import fold
from backend.settings import Settings
from backend.sqlite import SQLITE_TIMESTAMP_FORMAT
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
TITLES = ("Buy MILK", "été à Paris", "Straße", "x", "50% off", "emoji 🎉", "t" * 200)


@pytest.fixture(params=DATABASES, ids=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no table yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.create_database(f"migrated_{uuid.uuid4().hex[:12]}")


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
                "created_at": created.strftime(SQLITE_TIMESTAMP_FORMAT) if sqlite else created,
                "updated_at": updated.strftime(SQLITE_TIMESTAMP_FORMAT) if sqlite else updated,
            }
        )
    columns = ", ".join(OLD_COLUMNS[1:])
    values = ", ".join(f":{name}" for name in OLD_COLUMNS[1:])
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO tasks ({columns}) VALUES ({values})"), rows)
        # A deleted task's id must stay unused after the migration too.
        connection.execute(sa.text("DELETE FROM tasks WHERE id = (SELECT max(id) FROM tasks)"))
    engine.dispose()


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
    assert revisions()[-1] == head_revision()
    previous = "base"
    for revision in revisions():
        migrate(empty_url, revision)
        if previous != "base":
            fill_revision_1(empty_url)
        kept = snapshot(empty_url) if previous != "base" else []
        migrate(empty_url, previous, down=True)
        if previous != "base":
            assert snapshot(empty_url) == kept
        migrate(empty_url, revision)
        if previous != "base":
            assert snapshot(empty_url) == kept
        previous = revision


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
