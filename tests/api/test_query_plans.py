"""Each list query of specs/database/schema.md's "Query plans" table uses the index it
names, on both databases: EXPLAIN of the server's own statements on many tasks."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import psycopg
import pytest
import sqlalchemy as sa

import codegen
from backend.queries.store import OwnerId, TaskStore
from backend.settings import Settings
from backend.storage.database import Database, Row, Statement
from backend.storage.factory import connect, sync_url
from backend.storage.schema import upgrade_to_head
from backend.storage.sqlite import sqlite_timestamp
from backend.tasks.filters import TaskFilters
from backend.tasks.search import fold
from generated.models import TaskPriority, TaskSort, TaskStatusFilter
from tests.conftest import DATABASES, SECRET
from tests.support.passthrough_database import PassThroughDatabase
from tests.support.postgres import PostgresServer

SCHEMA_SPEC = Path(__file__).resolve().parents[2] / "specs" / "database" / "schema.md"
OWNER = "planner"
TASKS = 20_000
RARE_EVERY = TASKS // 10  # the tag "rare" and the word "zebra": 10 tasks each
# One task in 10 has a reminder (2,000), half of those completed, a few reminded each day of
# 2026: the pending ones (1,000) are the rows of the partial index ix_tasks_owner_remind_at.
REMINDED = (1, 2)  # index % 10: 1 is pending, 2 completed (even indexes are completed)
REMIND_BEFORE_MINUTES = 30
COLUMNS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

pytestmark = pytest.mark.anyio


def documented_plans() -> list[tuple[str, dict[str, str]]]:
    schema = codegen.read_sections(SCHEMA_SPEC.read_text(encoding="utf-8")).children[0]
    rows = schema.require_child("Query plans").tables[0].rows
    return [
        (row.text("Query"), {name: row.text(label) for name, label in COLUMNS.items()})
        for row in rows
    ]


def task_rows(sqlite: bool) -> Iterator[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def moment(value: datetime | None) -> datetime | str | None:
        return sqlite_timestamp(value) if sqlite and value else value

    for index in range(TASKS):
        title = f"task {index} zebra" if index % RARE_EVERY == 7 else f"task {index} errand"
        tags = ["rare", "home"] if index % RARE_EVERY == 3 else ["home"]
        created = start + timedelta(seconds=index)
        due_date = date(2026, 1, 1) + timedelta(days=index % 365)
        due_at = remind_at = None
        if index % 10 in REMINDED:
            due_date = date(2026, 1, 1) + timedelta(days=index // 10 % 365)
            due_at = datetime.combine(due_date, time(9, 0), UTC)
            remind_at = due_at - timedelta(minutes=REMIND_BEFORE_MINUTES)
        yield {
            "user_id": OWNER,
            "title": title,
            "description": "routine",
            "completed": index % 2 == 0,
            "due_date": due_date,
            "due_time": "09:00" if due_at else None,
            "due_at": moment(due_at),
            "remind_before_minutes": REMIND_BEFORE_MINUTES if remind_at else None,
            "remind_at": moment(remind_at),
            "created_at": moment(created),
            "updated_at": moment(created),
            "priority": 1 + index % 3,
            "tags": json.dumps(tags) if sqlite else tags,
            "title_folded": fold(title),
            "description_folded": "routine",
        }


@pytest.fixture(params=DATABASES, ids=DATABASES, scope="module")
def filled_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database of its own holding TASKS tasks of one owner, its statistics up to date."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"plans_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    engine = sa.create_engine(sync_url(url))
    rows = list(task_rows(engine.dialect.name == "sqlite"))
    names = list(rows[0])
    insert = sa.text(
        f"INSERT INTO tasks ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
    )
    with engine.begin() as connection:
        connection.execute(insert, rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return url


class RecordingDatabase(PassThroughDatabase):
    """The real database, noting each statement a read runs."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.reads: list[tuple[Statement, dict[str, Any]]] = []

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        self.reads.append((statement, {**statement.defaults, **params}))
        return await self.database.fetch(statement, params)


def filters_of(query: Mapping[str, list[str]]) -> tuple[TaskFilters, TaskSort]:
    def one(name: str) -> str | None:
        return query[name][0] if name in query else None

    priority, due_from, due_to = one("priority"), one("due_from"), one("due_to")
    remind_from, remind_to = one("remind_from"), one("remind_to")
    filters = TaskFilters.of(
        TaskStatusFilter.ALL,
        TaskPriority(priority) if priority else None,
        query.get("tag"),
        date.fromisoformat(due_from) if due_from else None,
        date.fromisoformat(due_to) if due_to else None,
        one("q"),
        datetime.fromisoformat(remind_from) if remind_from else None,
        datetime.fromisoformat(remind_to) if remind_to else None,
    )
    return filters, TaskSort(one("sort") or "created")


def sqlite_value(value: Any) -> Any:
    """A parameter as the server binds it on SQLite: moments as stored, UTC text."""
    if isinstance(value, datetime):
        return sqlite_timestamp(value)
    return value.isoformat() if isinstance(value, date) else value


def explain(url: str, statement: Statement, params: dict[str, Any]) -> str:
    if url.startswith("sqlite"):
        encoded = {k: sqlite_value(v) for k, v in params.items()}
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {statement.sql}", encoded).fetchall()
        return "\n".join(str(row[-1]) for row in rows)
    conninfo = sync_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(f"EXPLAIN {statement.sql}", params).fetchall()
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(("query", "indexes"), documented_plans(), ids=lambda v: str(v))
async def test_the_documented_index_serves_the_query(
    filled_url: str, query: str, indexes: dict[str, str]
) -> None:
    settings = Settings(
        database_url=filled_url,
        better_auth_secret=SECRET,
        _env_file=None,
    )
    database = RecordingDatabase(connect(settings))
    filters, sort = filters_of(parse_qs(query))
    store = TaskStore(database)
    try:
        page = await store.list_tasks(OWNER_ID, filters, sort, 20, None)
        pages = [(page, len(database.reads))]
        if page.next_cursor is not None:
            # A later page starts from its cursor: the same index must serve the keyset.
            later = await store.list_tasks(OWNER_ID, filters, sort, 20, page.next_cursor)
            pages.append((later, len(database.reads)))
    finally:
        await database.close()
    expected = indexes[database.dialect.name]
    for number, (listed, reads) in enumerate(pages, start=1):
        assert listed.tasks  # the query finds tasks, so its plan is the one that matters
        # The statement whose rows made the page (on SQLite a list with a tag or words may
        # first read a window of the owner's range, which rare matches do not fill).
        statement, params = database.reads[reads - 1]
        plan = explain(filled_url, statement, params)
        assert expected in plan, f"{query}, page {number}: {expected} not in the plan:\n{plan}"
        if "tag=" in query or "q=" in query:
            # Rare matches: the plan starts from them, never reads the owner's whole range.
            assert "ix_tasks_owner_" not in plan, f"{query} reads the owner's range:\n{plan}"
        if number > 1 and database.dialect.name == "postgresql":
            # The cursor is where the index scan starts, not a filter over the owner's rows.
            [condition] = [line for line in plan.splitlines() if "Index Cond:" in line]
            assert "ROW(" in condition, (
                f"{query}: the cursor is not in the index condition:\n{plan}"
            )


OWNER_ID = OwnerId(OWNER)


def plan_of(statement: Statement) -> str:
    """Which step of a created, title or priority list a statement is (see listing.plans_for)."""
    if "few_matches" in statement.sql:
        return "count"
    if "window" in statement.sql:
        return "window end"
    if "bound_key" in statement.sql:
        return "window"
    return "matches" if "|| ''" in statement.sql else "range"


async def pages_of(
    url: str, filters: TaskFilters, sort: TaskSort, pages: int
) -> tuple[list[list[int]], list[str]]:
    """The ids of the first `pages` pages of 20, and the steps each page's reads took."""
    settings = Settings(database_url=url, better_auth_secret=SECRET, _env_file=None)
    database = RecordingDatabase(connect(settings))
    store = TaskStore(database)
    listed: list[list[int]] = []
    after = None
    try:
        for _ in range(pages):
            page = await store.list_tasks(OWNER_ID, filters, sort, 20, after)
            listed.append([task.id for task in page.tasks])
            after = page.next_cursor
            if after is None:
                break
    finally:
        await database.close()
    return listed, [plan_of(statement) for statement, _ in database.reads]


FEW = ["window end", "count", "matches"]
MANY = ["window end", "count", "window"]
# Words are never counted (backend/queries/match_probe.py): a window, then the matches if it
# is short.
WORDS = ["window end", "window"]
# Each list, the steps of its first page, and how many pages of 20 it has (3 or more: 3).
RARE_AND_COMMON = [
    ("q=zebra", [*WORDS, "matches"], 1),
    ("tag=rare", FEW, 1),
    ("tag=rare&q=task", [*WORDS, "matches"], 1),
    ("q=errand", WORDS, 3),
    ("tag=home", MANY, 3),
    ("q=errand&sort=title", WORDS, 3),
    ("tag=home&sort=priority", MANY, 3),
]


# SQLite only: PostgreSQL's planner chooses from its statistics, with no count first.
@pytest.mark.parametrize("filled_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("query", "steps", "pages"), RARE_AND_COMMON, ids=lambda v: str(v))
async def test_sqlite_starts_from_few_matches_and_reads_a_window_for_many(
    filled_url: str, query: str, steps: list[str], pages: int
) -> None:
    """A tag of fewer tasks than match_probe.FEW_MATCHES skips the window (which it could
    not fill); a frequent one reads the window, which fills its page; words read a window."""
    filters, sort = filters_of(parse_qs(query))
    _, taken = await pages_of(filled_url, filters, sort, 1)
    assert taken == steps


@pytest.mark.parametrize(("query", "steps", "pages"), RARE_AND_COMMON, ids=lambda v: str(v))
async def test_either_plan_lists_the_same_pages(
    filled_url: str, query: str, steps: list[str], pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever step the count of matches chooses, the pages are the same: a bound of 0
    makes every list read its window first, one past every count skips it."""
    import backend.queries.match_probe

    filters, sort = filters_of(parse_qs(query))
    answers = []
    for bound in (0, TASKS + 1):
        monkeypatch.setattr(backend.queries.match_probe, "FEW_MATCHES", bound)
        listed, _ = await pages_of(filled_url, filters, sort, 3)
        answers.append(listed)
    assert answers[0] == answers[1]
    assert answers[0][0], "the list finds tasks"
    assert len(answers[0]) == pages
