"""The task store: every read and write of tasks, always filtered by owner. The SQL of
writes and single reads lives here; lists are read by backend/queries/pages.py (their SQL in
backend/queries/listing.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, NewType, overload

from opentelemetry import trace
from sqlalchemy import (
    BigInteger,
    ClauseElement,
    ColumnElement,
    Insert,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    insert,
    not_,
    null,
    select,
    update,
)

from backend.queries.pages import Page, TaskPages
from backend.queries.statements import StatementCache
from backend.storage.database import Database, Row, Statement, Transaction
from backend.storage.models import PRIORITY_RANKS
from backend.storage.task_table import COLUMNS, tasks
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import Cursor
from backend.tasks.preconditions import Expected, PreconditionFailed
from backend.tasks.schedule import SCHEDULE_COLUMNS, SCHEDULE_FIELDS, Schedule
from backend.tasks.search import fold
from generated.models import (
    Task,
    TaskCreate,
    TaskPriority,
    TaskSort,
    TaskUpdate,
)

OwnerId = NewType("OwnerId", str)

# The columns a task is created with, beside its owner, completion and times.
CONTENT_COLUMNS = (
    *("title", "description", "priority", "tags"),
    *("title_folded", "description_folded"),
)
CREATE_COLUMNS = (*CONTENT_COLUMNS, *SCHEDULE_COLUMNS)
UPDATE_FIELDS = ("title", "description", "completed", "priority", "tags")
# The version of a new task (the column's default): its first ETag.
INITIAL_VERSION = 1


class TaskNotFound(Exception):
    """The owner has no task with this id (it may not exist, or belong to someone else)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"no task {task_id}")
        self.task_id = task_id


def _task(row: Row) -> Task:
    return Task.model_validate(row)


@dataclass(frozen=True, slots=True)
class StoredTask:
    """A task and its row version (the ETag's source, never a field of the task)."""

    task: Task
    version: int


def _stored_task(row: Row) -> StoredTask:
    version: int = row.pop("version")  # the driver's dict, ours to change
    return StoredTask(Task.model_validate(row), version)


def _written(expected: Expected | None) -> ColumnElement[bool]:
    """The owner's task, and with If-Match one of the versions it names (one bind each)."""
    if expected is None or expected.versions is None:
        return _owned()
    versions = [bindparam(f"if_match_{i}", type_=BigInteger) for i in range(len(expected.versions))]
    return and_(_owned(), tasks.c.version.in_(versions))


def _expected_key(expected: Expected | None) -> object:
    """The statement's shape for a precondition: none, `*`, or how many versions."""
    if expected is None:
        return None
    return "*" if expected.versions is None else len(expected.versions)


def _expected_params(expected: Expected | None) -> dict[str, int]:
    if expected is None or expected.versions is None:
        return {}
    return {f"if_match_{i}": version for i, version in enumerate(expected.versions)}


def _now() -> datetime:
    return datetime.now(UTC)


def trace_context() -> str | None:
    """The W3C traceparent of the span the write runs in, when this server records it (a
    sampled request's server span), for the write's event; None otherwise, at the cost of
    reading the current span."""
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    context = span.get_span_context()
    if not context.trace_flags.sampled:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def _owned() -> ColumnElement[bool]:
    return and_(
        tasks.c.id == bindparam("task_id", type_=BigInteger),
        tasks.c.user_id == bindparam("owner"),
    )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """The columns a client's fields are stored in: ranks, sorted tags, folded text."""
    stored = dict(values)
    if "priority" in values:
        stored["priority"] = PRIORITY_RANKS[TaskPriority(values["priority"]).value]
    if "tags" in values:
        stored["tags"] = sorted(values["tags"])
    if "title" in values:
        stored["title_folded"] = fold(values["title"])
    if "description" in values:
        stored["description_folded"] = fold(values["description"] or "")
    return stored


def _update_statement(
    columns: tuple[str, ...], expected: Expected | None, *, completes: bool = False
) -> ClauseElement:
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    return (
        update(tasks)
        .where(_completing(expected) if completes else _written(expected))
        .values(
            **values,
            updated_at=bindparam("now"),
            version=tasks.c.version + 1,
            trace_context=bindparam("trace_context"),
        )
        .returning(*COLUMNS, tasks.c.version)
    )


def insert_task(gate: ColumnElement[bool] | None = None) -> Insert:
    """The INSERT of a new task, RETURNING the task (new_task_parameters fills it in).

    With a gate, it is an INSERT ... SELECT ... WHERE gate: the task is inserted only when
    the gate holds (PostgreSQL, as the first part of a larger statement). Each value is cast
    to its column's type there, as a SELECT list does not take the types of the columns.
    """
    values: dict[str, ColumnElement[Any]] = {
        "user_id": bindparam("owner"),
        "completed": false(),
        "created_at": bindparam("now"),
        "updated_at": bindparam("now"),
        "trace_context": bindparam("trace_context"),
        **{name: bindparam(name) for name in CREATE_COLUMNS},
    }
    if gate is None:
        return insert(tasks).values(**values).returning(*COLUMNS)
    typed = [cast(value, tasks.c[name].type).label(name) for name, value in values.items()]
    return insert(tasks).from_select(list(values), select(*typed).where(gate)).returning(*COLUMNS)


def new_task_parameters(owner: OwnerId, fields: TaskCreate) -> dict[str, Any]:
    """The values insert_task stores for a client's fields: not completed, created now, in
    the current trace. Raises InvalidSchedule for a schedule the contract refuses."""
    values: Mapping[str, Any] = fields.model_dump()
    schedule = Schedule.of(values).checked()
    stored = _stored({"description": None, "tags": [], **values})
    return {
        **{name: stored[name] for name in CONTENT_COLUMNS},
        **schedule.columns(),
        "owner": owner,
        "now": _now(),
        "trace_context": trace_context(),
    }


def _creates_next_occurrence() -> ColumnElement[bool]:
    """A task that creates its next occurrence when it becomes completed: it recurs, it has
    not created one yet, and it is not completed. Writes that complete a task leave such rows
    to the locked write (TaskStore._write_locked), which creates the occurrence with it."""
    return and_(
        tasks.c.recurrence.is_not(None),
        tasks.c.next_occurrence_id.is_(None),
        not_(tasks.c.completed),
    )


def _completing(expected: Expected | None) -> ColumnElement[bool]:
    """_written, for a write that completes the task: never one that must create its next
    occurrence (then no row is written, and the locked write takes over)."""
    return and_(_written(expected), not_(_creates_next_occurrence()))


# The row a locked write reads: the task, its version, and the stored forms it carries over.
LOCKED_COLUMNS = (
    *COLUMNS,
    tasks.c.version,
    tasks.c.priority.label("rank"),
    tasks.c.title_folded,
    tasks.c.description_folded,
)


class TaskStore:
    """Tasks of one database, every statement filtered by owner: one statement per write,
    except a completion that creates the next occurrence (one transaction)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._statement = StatementCache(database)
        self._pages = TaskPages(database, self._statement)

    async def list_tasks(
        self,
        owner: OwnerId,
        filters: TaskFilters,
        sort: TaskSort,
        limit: int,
        after: Cursor | None,
    ) -> Page:
        """One page of the owner's tasks (backend/queries/pages.py)."""
        return await self._pages.page(owner, filters, sort, limit, after)

    async def get(self, owner: OwnerId, task_id: int) -> StoredTask:
        statement = self._statement(
            ("get",), lambda: select(*COLUMNS, tasks.c.version).where(_owned())
        )
        rows = await self.database.fetch(statement, {"owner": owner, "task_id": task_id})
        if not rows:
            raise TaskNotFound(task_id)
        return _stored_task(rows[0])

    async def create(
        self, owner: OwnerId, fields: TaskCreate, transaction: Transaction | None = None
    ) -> Task:
        """Insert the task, on its own or as one write of a larger transaction."""
        statement = self._statement(("create",), insert_task)
        writer: Transaction = transaction or self.database
        rows = await writer.write(statement, new_task_parameters(owner, fields))
        return _task(rows[0])

    # Writes to one task take `expected`, the versions of If-Match: the statement then
    # writes only a task that still has one of them, so the check and the write are one
    # step on both databases; no row is PreconditionFailed instead of TaskNotFound.

    async def update(
        self, owner: OwnerId, task_id: int, changes: TaskUpdate, expected: Expected | None = None
    ) -> StoredTask:
        """Set the fields the client sent (absent ones stay) in one UPDATE ... RETURNING.

        A change of the schedule is computed from the stored one (a locked write); so is a
        completion that must create the next occurrence."""
        values = changes.model_dump()
        stored = _stored({name: values[name] for name in UPDATE_FIELDS if name in values})
        if any(name in values for name in SCHEDULE_FIELDS):
            return await self._write_locked(
                owner, task_id, expected, partial(_rescheduled, stored, values)
            )
        columns = tuple(sorted(stored))
        completes = stored.get("completed") is True
        statement = self._statement(
            ("update", columns, _expected_key(expected), completes),
            lambda: _update_statement(columns, expected, completes=completes),
        )
        params = {
            **stored,
            "owner": owner,
            "task_id": task_id,
            "now": _now(),
            "trace_context": trace_context(),
        }
        written = await self._write_one(statement, params, task_id, expected, completes)
        if written is None:
            return await self._write_locked(owner, task_id, expected, lambda _: stored)
        return written

    async def toggle_completion(
        self, owner: OwnerId, task_id: int, expected: Expected | None = None
    ) -> StoredTask:
        """Flip `completed` atomically: the row returned is the state this statement wrote."""
        statement = self._statement(
            ("toggle", _expected_key(expected)),
            lambda: (
                update(tasks)
                .where(_completing(expected))
                .values(
                    completed=not_(tasks.c.completed),
                    updated_at=bindparam("now"),
                    version=tasks.c.version + 1,
                    trace_context=bindparam("trace_context"),
                )
                .returning(*COLUMNS, tasks.c.version)
            ),
        )
        params = {
            "owner": owner,
            "task_id": task_id,
            "now": _now(),
            "trace_context": trace_context(),
        }
        written = await self._write_one(statement, params, task_id, expected, True)
        if written is None:
            return await self._write_locked(
                owner, task_id, expected, lambda row: {"completed": not row["completed"]}
            )
        return written

    async def set_completion(
        self, owner: OwnerId, task_id: int, completed: bool, expected: Expected | None = None
    ) -> StoredTask:
        """Set `completed`; `updated_at` and the version move only when the state changes."""
        unchanged = tasks.c.completed == bindparam("completed")
        statement = self._statement(
            ("set completion", _expected_key(expected), completed),
            lambda: (
                update(tasks)
                .where(_completing(expected) if completed else _written(expected))
                .values(
                    completed=bindparam("completed"),
                    updated_at=case((unchanged, tasks.c.updated_at), else_=bindparam("now")),
                    version=case((unchanged, tasks.c.version), else_=tasks.c.version + 1),
                    # No event when unchanged, so no trace for one (the row keeps none).
                    trace_context=case((unchanged, null()), else_=bindparam("trace_context")),
                )
                .returning(*COLUMNS, tasks.c.version)
            ),
        )
        params = {
            "owner": owner,
            "task_id": task_id,
            "completed": completed,
            "now": _now(),
            "trace_context": trace_context(),
        }
        written = await self._write_one(statement, params, task_id, expected, completed)
        if written is None:
            return await self._write_locked(
                owner,
                task_id,
                expected,
                lambda row: {} if row["completed"] is completed else {"completed": completed},
            )
        return written

    async def delete(self, owner: OwnerId, task_id: int, expected: Expected | None = None) -> None:
        statement = self._statement(
            ("delete", _expected_key(expected)),
            lambda: delete(tasks).where(_written(expected)).returning(tasks.c.id),
        )
        params = {"owner": owner, "task_id": task_id, **_expected_params(expected)}
        if not await self.database.write(statement, params):
            raise _not_written(task_id, expected)

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        await self.database.ping()

    @overload
    async def _write_one(
        self,
        statement: Statement,
        params: dict[str, Any],
        task_id: int,
        expected: Expected | None,
        completes: Literal[False] = False,
    ) -> StoredTask: ...

    @overload
    async def _write_one(
        self,
        statement: Statement,
        params: dict[str, Any],
        task_id: int,
        expected: Expected | None,
        completes: bool,
    ) -> StoredTask | None: ...

    async def _write_one(
        self,
        statement: Statement,
        params: dict[str, Any],
        task_id: int,
        expected: Expected | None,
        completes: bool = False,
    ) -> StoredTask | None:
        """The row written; with `completes`, None when no row was (the locked write decides
        whether the task is missing, changed, or must create its next occurrence)."""
        rows = await self.database.write(statement, {**params, **_expected_params(expected)})
        if not rows:
            if completes:
                return None
            raise _not_written(task_id, expected)
        return _stored_task(rows[0])

    async def _write_locked(
        self,
        owner: OwnerId,
        task_id: int,
        expected: Expected | None,
        change: Callable[[Row], dict[str, Any]],
    ) -> StoredTask:
        """Read the task locked, write what `change` makes of it, and when that completes a
        task that recurs and has no next occurrence yet, create the next one: one
        transaction, so a task gets its next occurrence exactly once, with its completion.

        The lock (FOR UPDATE on PostgreSQL; SQLite's transactions take the write lock first)
        queues concurrent writes of the task: each sees the one before it. `change` returns
        the stored values to set; none means nothing changes (no new version)."""
        lock = self._statement(
            ("locked read",), lambda: select(*LOCKED_COLUMNS).where(_owned()).with_for_update()
        )
        async with self.database.transaction() as transaction:
            rows = await transaction.write(lock, {"owner": owner, "task_id": task_id})
            if not rows:
                raise _not_written(task_id, expected)
            current = rows[0]
            versions = None if expected is None else expected.versions
            if versions is not None and current["version"] not in versions:
                raise PreconditionFailed(task_id)
            values = change(current)
            if not values:
                return _stored_task(_task_row(current))
            completes = values.get("completed") is True and not current["completed"]
            if completes and current["next_occurrence_id"] is None:
                following = _next_occurrence(current, values)
                if following is not None:
                    created = await transaction.write(
                        self._statement(("create",), insert_task),
                        {
                            **following,
                            "owner": owner,
                            "now": _now(),
                            "trace_context": trace_context(),
                        },
                    )
                    values = {**values, "next_occurrence_id": created[0]["id"]}
            columns = tuple(sorted(values))
            statement = self._statement(
                ("locked update", columns), lambda: _update_statement(columns, None)
            )
            params = {
                **values,
                "owner": owner,
                "task_id": task_id,
                "now": _now(),
                "trace_context": trace_context(),
            }
            return _stored_task((await transaction.write(statement, params))[0])


def _task_row(locked: Row) -> Row:
    """A locked read's row as the task's own columns and version."""
    return {name: value for name, value in locked.items() if name not in LOCKED_ONLY}


LOCKED_ONLY = frozenset({"rank", "title_folded", "description_folded"})


def _rescheduled(stored: dict[str, Any], changes: dict[str, Any], current: Row) -> dict[str, Any]:
    """An update's values, with the schedule the changes make of the stored one."""
    schedule = Schedule.of(current).changed(changes)
    return {**stored, **schedule.columns()}


def _next_occurrence(current: Row, values: dict[str, Any]) -> dict[str, Any] | None:
    """The stored values of the task that follows `current` once `values` are written; None
    when it does not recur or its rule is exhausted."""
    after = {**current, **values}
    schedule = Schedule.of(after).next_occurrence()
    if schedule is None:
        return None
    carried = {
        "title": after["title"],
        "description": after["description"],
        "priority": values.get("priority", current["rank"]),
        "tags": after["tags"],
        "title_folded": after["title_folded"],
        "description_folded": after["description_folded"],
    }
    return {**carried, **schedule.columns()}


def _not_written(task_id: int, expected: Expected | None) -> Exception:
    """No row: with If-Match the precondition failed (gone or changed), else no such task."""
    return TaskNotFound(task_id) if expected is None else PreconditionFailed(task_id)
