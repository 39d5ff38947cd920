"""The queries: every read and write of tasks, always filtered by owner. SQL lives here only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NewType

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    delete,
    insert,
    not_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.models import TaskRecord
from backend.pagination import Cursor, SortKey
from generated.models import Task, TaskCreate, TaskSort, TaskStatusFilter, TaskUpdate

OwnerId = NewType("OwnerId", str)

tasks = TaskRecord.__table__  # type: ignore[attr-defined]
COLUMNS = tuple(tasks.c)


class TaskNotFound(Exception):
    """The owner has no task with this id (it may not exist, or belong to someone else)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"no task {task_id}")
        self.task_id = task_id


@dataclass(frozen=True, slots=True)
class Page:
    tasks: list[Task]
    next_cursor: Cursor | None


def _task(row: RowMapping) -> Task:
    # Rows come from our own table, already typed by the column types: no re-validation.
    return Task.model_construct(**row)


def _now() -> datetime:
    return datetime.now(UTC)


class TaskStore:
    """Tasks of one database. Every statement is one SQL statement, filtered by owner."""

    def __init__(self, engine: AsyncEngine, *, serialize_writes: bool) -> None:
        self.engine = engine
        # SQLite has one writer at a time: queueing writers of this process on an asyncio lock
        # is fair and cheap, where SQLite's busy handler would make them sleep and retry.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if serialize_writes else None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self.engine.begin() as connection:
            yield connection

    async def list_tasks(
        self,
        owner: OwnerId,
        status: TaskStatusFilter,
        sort: TaskSort,
        limit: int,
        after: Cursor | None,
    ) -> Page:
        """One page of the owner's tasks; fetches one row more to know if a page follows."""
        async with self.engine.connect() as connection:
            if sort is TaskSort.DUE_DATE:
                rows = await self._list_by_due_date(connection, owner, status, limit + 1, after)
            else:
                statement = self._listing(owner, status).limit(limit + 1)
                statement = _ordered_after(statement, sort, after)
                rows = list((await connection.execute(statement)).mappings())
        page = [_task(row) for row in rows[:limit]]
        if len(rows) <= limit:
            return Page(page, None)
        last = page[-1]
        key: SortKey
        if sort is TaskSort.CREATED:
            key = last.created_at
        elif sort is TaskSort.TITLE:
            key = last.title
        else:
            key = last.due_date
        return Page(page, Cursor(sort, status, key, last.id))

    def _listing(self, owner: OwnerId, status: TaskStatusFilter) -> Select[Any]:
        statement = select(*COLUMNS).where(tasks.c.user_id == owner)
        if status is TaskStatusFilter.PENDING:
            statement = statement.where(not_(tasks.c.completed))
        elif status is TaskStatusFilter.COMPLETED:
            statement = statement.where(tasks.c.completed)
        return statement

    async def _list_by_due_date(
        self,
        connection: AsyncConnection,
        owner: OwnerId,
        status: TaskStatusFilter,
        wanted: int,
        after: Cursor | None,
    ) -> list[RowMapping]:
        # Tasks with a due day first, then those without. Each part is one index range scan on
        # (user_id, due_date, id), the same on both databases whatever they do with NULLs.
        rows: list[RowMapping] = []
        in_dated_part = after is None or after.key is not None
        if in_dated_part:
            dated = self._listing(owner, status).where(tasks.c.due_date.is_not(None))
            if after is not None:
                dated = dated.where(
                    tuple_(tasks.c.due_date, tasks.c.id) > tuple_(after.key, after.task_id)
                )
            dated = dated.order_by(tasks.c.due_date, tasks.c.id).limit(wanted)
            rows = list((await connection.execute(dated)).mappings())
        if len(rows) < wanted:
            undated = self._listing(owner, status).where(tasks.c.due_date.is_(None))
            if after is not None and not in_dated_part:
                undated = undated.where(tasks.c.id > after.task_id)
            undated = undated.order_by(tasks.c.id).limit(wanted - len(rows))
            rows.extend((await connection.execute(undated)).mappings())
        return rows

    async def get(self, owner: OwnerId, task_id: int) -> Task:
        statement = select(*COLUMNS).where(_owned(owner, task_id))
        async with self.engine.connect() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise TaskNotFound(task_id)
        return _task(row)

    async def create(self, owner: OwnerId, fields: TaskCreate) -> Task:
        now = _now()
        values = {**fields.model_dump(), "user_id": owner, "completed": False}
        statement = (
            insert(tasks).values(**values, created_at=now, updated_at=now).returning(*COLUMNS)
        )
        async with self._writing() as connection:
            row = (await connection.execute(statement)).mappings().one()
        return _task(row)

    async def update(self, owner: OwnerId, task_id: int, changes: TaskUpdate) -> Task:
        """Set the fields the client sent (absent ones stay) in one UPDATE ... RETURNING."""
        statement = (
            update(tasks)
            .where(_owned(owner, task_id))
            .values(**changes.model_dump(), updated_at=_now())
            .returning(*COLUMNS)
        )
        return await self._write_one(statement, task_id)

    async def toggle_completion(self, owner: OwnerId, task_id: int) -> Task:
        """Flip `completed` atomically: the row returned is the state this statement wrote."""
        statement = (
            update(tasks)
            .where(_owned(owner, task_id))
            .values(completed=not_(tasks.c.completed), updated_at=_now())
            .returning(*COLUMNS)
        )
        return await self._write_one(statement, task_id)

    async def delete(self, owner: OwnerId, task_id: int) -> None:
        statement = delete(tasks).where(_owned(owner, task_id)).returning(tasks.c.id)
        async with self._writing() as connection:
            deleted = (await connection.execute(statement)).first()
        if deleted is None:
            raise TaskNotFound(task_id)

    async def ping(self) -> None:
        """Round-trip `SELECT 1`; raises the driver's error when the database is unreachable."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def _write_one(self, statement: Any, task_id: int) -> Task:
        async with self._writing() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise TaskNotFound(task_id)
        return _task(row)


def _owned(owner: OwnerId, task_id: int) -> ColumnElement[bool]:
    return and_(tasks.c.id == task_id, tasks.c.user_id == owner)


def _ordered_after(statement: Select[Any], sort: TaskSort, after: Cursor | None) -> Select[Any]:
    if sort is TaskSort.CREATED:
        statement = statement.order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
        if after is not None:
            position = tuple_(tasks.c.created_at, tasks.c.id)
            return statement.where(position < tuple_(after.key, after.task_id))
        return statement
    statement = statement.order_by(tasks.c.title, tasks.c.id)
    if after is not None:
        position = tuple_(tasks.c.title, tasks.c.id)
        return statement.where(position > tuple_(after.key, after.task_id))
    return statement
