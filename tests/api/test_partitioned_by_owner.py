"""Every statement the store issues stays within one owner's rows (docs/SCALING.md).

The data can then be partitioned by `user_id` (PostgreSQL distributed with Citus, or one
database per group of users): each statement reads or writes one owner's rows only. The
store and the idempotency keys are driven through every public operation and every shape
of list, on the PostgreSQL dialect and on SQLite's (whose lists with tags may first count
the tags' matches, then read a window or the matches), and each statement they compile
is walked: every use of `tasks`, `task_tag` or `idempotency_key` must compare that table's
`user_id` with the request's owner (a read or write) or set it to the owner (an insert).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import BinaryExpression, BindParameter, Column, Delete, Insert, Select, Update
from sqlalchemy import Table as SqlTable
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, operators, visitors
from sqlalchemy.sql.selectable import Alias

from backend.queries.idempotency import IdempotencyKeyInFlight, IdempotencyKeys
from backend.queries.store import OwnerId, TaskNotFound, TaskStore
from backend.storage.database import Database, Row, Statement, Transaction
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import Cursor
from generated.models import TaskCreate, TaskPriority, TaskSort, TaskStatusFilter, TaskUpdate

OWNED_TABLES = frozenset({"tasks", "task_tag", "idempotency_key"})
OWNER = OwnerId("partition-owner")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class RecordingDatabase(Database):
    """A dialect that records what it compiles and never connects.

    Reads answer no rows, except the window's end, so a list with a tag or words goes on
    to its second plan, and SQLite's count of a tag's matches (`matched`: each tag matches
    that many tasks); writes answer no rows (the store then raises TaskNotFound).
    """

    def __init__(self, dialect: Dialect, matched: int = 0) -> None:
        self.dialect = dialect
        self.matched = matched
        self.compiled: list[ClauseElement] = []

    def compile(self, statement: ClauseElement) -> Statement:
        self.compiled.append(statement)
        return super().compile(statement)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        if "few_matches" in statement.sql:
            return [{"tag_0": self.matched}]
        if "OFFSET" in statement.sql and "window" in statement.sql:
            return [{"id": 7, "created_at": NOW, "title": "t", "rank": 2}]
        return []

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        return []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        yield self

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _is_owners_user_id(node: Any, table: str) -> bool:
    """`node` is, or wraps (as in `user_id || ''`), the `user_id` column of `table`."""
    return any(
        isinstance(part, Column) and part.name == "user_id" and _table_name(part.table) == table
        for part in visitors.iterate(node)
    )


def _table_name(from_clause: Any) -> str | None:
    if isinstance(from_clause, Alias):
        from_clause = from_clause.element
    return from_clause.name if isinstance(from_clause, SqlTable) else None


def _is_owner(node: Any) -> bool:
    return isinstance(node, BindParameter) and node.key == "owner"


def _filters_by_owner(
    where: ClauseElement | None, table: str, filtered: frozenset[str] = frozenset()
) -> bool:
    """The WHERE clause compares `table`.user_id with the owner, or with the user_id of a
    table an enclosing SELECT already holds to the owner (a correlated subquery)."""
    if where is None:
        return False

    def owner_side(node: Any) -> bool:
        return _is_owner(node) or any(_is_owners_user_id(node, other) for other in filtered)

    return any(
        isinstance(node, BinaryExpression)
        and node.operator is operators.eq
        and (
            (_is_owners_user_id(node.left, table) and owner_side(node.right))
            or (_is_owners_user_id(node.right, table) and owner_side(node.left))
        )
        for node in visitors.iterate(where)
    )


def _inserts_owner(statement: Insert) -> bool:
    values = getattr(statement, "_values", None) or {}
    for column, value in values.items():
        name = column if isinstance(column, str) else getattr(column, "key", None)
        if name == "user_id":
            return any(_is_owner(part) for part in visitors.iterate(value))
    selected = statement.select
    if selected is None:
        return False
    names = [column.key for column in statement.table.columns]
    targets = list(getattr(statement, "_select_names", None) or names)
    for target, column in zip(targets, selected.selected_columns, strict=False):
        if target == "user_id":
            return any(_is_owner(part) for part in visitors.iterate(column))
    return False


def unowned(statement: ClauseElement, filtered: frozenset[str] = frozenset()) -> list[str]:
    """The uses of an owned table in `statement` that do not stay within the owner's rows.

    `filtered` holds the tables an enclosing SELECT already holds to the owner: a correlated
    subquery (`EXISTS (... WHERE task_tag.task_id = tasks.id)`) reads that row, not others.
    """
    problems: list[str] = []
    if isinstance(statement, Select):
        names = {_table_name(source) for source in statement.get_final_froms()}
        tables = {name for name in names if name in OWNED_TABLES}
        here = {
            table
            for table in tables
            if _filters_by_owner(statement.whereclause, table, filtered - {table})
        }
        filtered = filtered | here
        problems += [
            f"a SELECT from {table} without user_id = :owner" for table in sorted(tables - filtered)
        ]
    elif isinstance(statement, Update | Delete):
        table = statement.table.name  # type: ignore[union-attr]
        if table in OWNED_TABLES and not _filters_by_owner(statement.whereclause, table):
            name = type(statement).__name__.upper()
            problems.append(f"{name} of {table} without user_id = :owner")
    elif isinstance(statement, Insert):
        table = statement.table.name
        if table in OWNED_TABLES and not _inserts_owner(statement):
            problems.append(f"an INSERT into {table} that does not set user_id = :owner")
    for child in statement.get_children():
        problems += unowned(child, filtered)
    return problems


def _list_variants() -> Iterator[tuple[TaskFilters, TaskSort, bool]]:
    """Every shape of list statement: status, each filter on or off, every order, paged."""
    for status, priority, tags, due, words, sort, paged in itertools.product(
        TaskStatusFilter,
        (None, TaskPriority.HIGH),
        (None, ["work", "home"]),
        (None, (date(2026, 1, 1), None), (date(2026, 1, 1), date(2026, 2, 1))),
        (None, "weekly report"),
        TaskSort,
        (False, True),
    ):
        due_from, due_to = due or (None, None)
        yield TaskFilters.of(status, priority, tags, due_from, due_to, words), sort, paged
        if sort is TaskSort.REMIND_AT:  # the reminder window, 1.4.0
            window = (NOW, NOW + timedelta(minutes=1))
            filters = TaskFilters.of(status, priority, tags, due_from, due_to, words, *window)
            yield filters, sort, paged


def _cursor(sort: TaskSort, filters: TaskFilters) -> Cursor:
    key: Any = {
        TaskSort.CREATED: NOW,
        TaskSort.TITLE: "t",
        TaskSort.PRIORITY: (2, NOW),
        TaskSort.DUE_DATE: date(2026, 1, 1),
        TaskSort.REMIND_AT: NOW,
    }[sort]
    return Cursor(sort, filters.status, key, 7, filters.digest())


async def _exercise(database: RecordingDatabase) -> set[str]:
    """Every public operation of the store and of the keys; the names of those called."""
    store = TaskStore(database)
    keys = IdempotencyKeys(store, ttl_seconds=60)
    keys.purge_every = 1
    called: set[str] = set()

    async def call(name: str, operation: Coroutine[Any, Any, Any]) -> None:
        called.add(name)
        with contextlib.suppress(TaskNotFound, IdempotencyKeyInFlight, IndexError):
            await operation

    for filters, sort, paged in _list_variants():
        after = _cursor(sort, filters) if paged else None
        await call("list_tasks", store.list_tasks(OWNER, filters, sort, 20, after))
    fields = TaskCreate(title="a task", tags=["work"])
    await call("get", store.get(OWNER, 7))
    await call("create", store.create(OWNER, fields))
    for changes in ({"title": "t"}, {"tags": ["a"]}, {"description": None, "priority": "low"}):
        await call("update", store.update(OWNER, 7, TaskUpdate.model_validate(changes)))
    await call("toggle_completion", store.toggle_completion(OWNER, 7))
    await call("set_completion", store.set_completion(OWNER, 7, True))
    await call("delete", store.delete(OWNER, 7))
    await call("ping", store.ping())
    await call("create_once", keys.create_once(OWNER, "key-1", fields))
    await call("create_in", keys.create_in(database, OWNER, "key-2", "digest", fields))
    return called


def _public_operations(*classes: type) -> set[str]:
    return {
        name
        for cls in classes
        for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }


def _postgresql() -> Dialect:
    return PGDialect_psycopg(paramstyle="pyformat")  # type: ignore[no-untyped-call]


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "postgresql": _postgresql,
    "sqlite": lambda: SQLiteDialect_pysqlite(paramstyle="named"),
}


@pytest.fixture(scope="module", params=["postgresql", "sqlite few", "sqlite many"])
def recorded(request: pytest.FixtureRequest) -> tuple[list[ClauseElement], set[str]]:
    """On SQLite, once with every tag and word matching few tasks, once with many."""
    import asyncio

    name = str(request.param)
    database = RecordingDatabase(DIALECTS[name.split()[0]](), 10**6 if "many" in name else 0)
    called = asyncio.run(_exercise(database))
    return database.compiled, called


def test_every_public_operation_is_exercised(
    recorded: tuple[list[ClauseElement], set[str]],
) -> None:
    """A new operation of the store fails here until this test drives it."""
    _, called = recorded
    assert _public_operations(TaskStore, IdempotencyKeys) == called


def test_every_statement_stays_within_one_owner(
    recorded: tuple[list[ClauseElement], set[str]],
) -> None:
    statements, _ = recorded
    assert len(statements) > 100, "the list shapes were not all compiled"
    problems = {
        f"{problem}:\n{statement.compile(dialect=PGDialect_psycopg())}"  # type: ignore[no-untyped-call]
        for statement in statements
        for problem in unowned(statement)
    }
    assert not problems, "\n\n".join(sorted(problems))


@pytest.mark.parametrize(
    ("sql_of", "problem"),
    [
        (
            lambda tasks, _tags: tasks.select().where(tasks.c.id == 1),
            "a SELECT from tasks without user_id = :owner",
        ),
        (
            lambda tasks, tags: tasks.select().where(
                tasks.c.user_id == BindParameter("owner"),
                tasks.c.id.in_(tags.select().with_only_columns(tags.c.task_id)),
            ),
            "a SELECT from task_tag without user_id = :owner",
        ),
        (
            lambda tasks, _tags: tasks.update().values(title="x"),
            "UPDATE of tasks without user_id = :owner",
        ),
        (
            lambda tasks, _tags: tasks.delete().where(tasks.c.user_id == BindParameter("someone")),
            "DELETE of tasks without user_id = :owner",
        ),
        (
            lambda tasks, _tags: tasks.insert().values(user_id=BindParameter("creator")),
            "an INSERT into tasks that does not set user_id = :owner",
        ),
    ],
)
def test_a_statement_without_the_owner_is_named(
    sql_of: Callable[[Any, Any], ClauseElement], problem: str
) -> None:
    """The check itself: each of these statements would read or write across owners."""
    from backend.storage.task_table import task_tag, tasks

    assert unowned(sql_of(tasks, task_tag)) == [problem]
