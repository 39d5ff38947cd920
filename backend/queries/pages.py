"""Pages of one owner's tasks: the list operation's reads, with the statements of
backend/queries/listing.py and the keyset cursors of backend/tasks/pagination.py."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import TypeAdapter

from backend.queries import listing
from backend.queries.listing import (
    FilterShape,
    Plan,
    bound_params,
    cursor_params,
    dated_statement,
    filter_params,
    list_statement,
    planned_per_call,
    plans_for,
    reminder_statement,
    undated_statement,
    window_end_statement,
)
from backend.queries.match_probe import few_matches, probe_params, probe_statement
from backend.queries.statements import StatementCache
from backend.storage.database import Database, Row
from backend.storage.models import PRIORITY_RANKS
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import Cursor, SortKey
from generated.models import Task, TaskSort


@dataclass(frozen=True, slots=True)
class Page:
    tasks: list[Task]
    next_cursor: Cursor | None


# Validating rows in pydantic-core costs less than constructing models in Python (measured:
# 70 against 156 us for a page of 20), and holds stored data to the contract too.
_TASKS = TypeAdapter(list[Task])


class TaskPages:
    """The list operation of a TaskStore, on its database and its statement cache."""

    def __init__(self, database: Database, statement: StatementCache) -> None:
        self.database = database
        self._statement = statement
        self.postgres = database.dialect.name == "postgresql"

    async def page(
        self,
        owner: str,
        filters: TaskFilters,
        sort: TaskSort,
        limit: int,
        after: Cursor | None,
    ) -> Page:
        """One page of the owner's tasks; fetches one row more to know if a page follows."""
        shape = FilterShape.of(filters)
        postgres = self.postgres
        base = {"owner": owner, **filter_params(filters, postgres)}
        if sort is TaskSort.DUE_DATE:
            rows = await self._by_due_date(shape, base, limit + 1, after)
        elif sort is TaskSort.REMIND_AT:
            statement = self._statement(
                ("reminders", shape, after is not None),
                lambda: reminder_statement(shape, after is not None, postgres),
                planned_per_call=planned_per_call(shape, Plan.RANGE),
            )
            window = {**base, "limit": limit + 1}
            if after is not None:
                window |= cursor_params(after)
            rows = await self.database.fetch(statement, window)
        else:
            params: dict[str, Any] = {**base, "limit": limit + 1}
            if after is not None:
                params |= cursor_params(after)
            plans = plans_for(shape, postgres)
            rows = await self._in_order(shape, sort, after is not None, params, plans)
        page = _TASKS.validate_python(rows[:limit])
        if len(rows) <= limit:
            return Page(page, None)
        last = page[-1]
        key: SortKey
        if sort is TaskSort.CREATED:
            key = last.created_at
        elif sort is TaskSort.TITLE:
            key = last.title
        elif sort is TaskSort.PRIORITY:
            key = (PRIORITY_RANKS[last.priority.value], last.created_at)
        elif sort is TaskSort.REMIND_AT:
            key = last.remind_at
        else:
            key = last.due_date
        return Page(page, Cursor(sort, filters.status, key, last.id, filters.digest()))

    async def _in_order(
        self,
        shape: FilterShape,
        sort: TaskSort,
        paged: bool,
        params: dict[str, Any],
        plans: list[Plan],
    ) -> list[Row]:
        """Rows of a created, title or priority list: the owner's range, or (with a tag or
        words) a window of it when that fills the page, else the second plan (see plans_for)."""
        postgres = self.postgres
        if plans:
            end_statement = self._statement(
                ("window end", sort, paged), lambda: window_end_statement(sort, paged)
            )
            ends = await self.database.fetch(
                end_statement, {**params, "window": listing.WINDOW_ROWS}
            )
            if not ends:  # the rest of the range is within one window: read it all
                plans = []
            elif await self._few_matches(shape, params):
                plans = [Plan.MATCHES]
            else:
                params = {**params, **bound_params(ends[0], sort)}
        rows: list[Row] = []
        for plan in plans or [Plan.RANGE]:
            statement = self._statement(
                ("list", shape, sort, paged, plan),
                partial(list_statement, shape, sort, paged, postgres, plan),
                planned_per_call=planned_per_call(shape, plan),
            )
            rows = await self.database.fetch(statement, params)
            if plan is not Plan.WINDOW or len(rows) == params["limit"]:
                break  # a full page from the window is the page: its rows come first
        return rows

    async def _few_matches(self, shape: FilterShape, params: dict[str, Any]) -> bool:
        """SQLite: whether each tag of a list without words matches so few of the owner's tasks
        that the list should start from them, not from a window (backend/queries/match_probe.py)."""
        if self.postgres or not shape.tags or shape.words:
            return False
        statement = self._statement(
            ("match probe", shape.tags), lambda: probe_statement(shape.tags)
        )
        counts = await self.database.fetch(statement, {**params, **probe_params()})
        return few_matches(counts[0])

    async def _by_due_date(
        self, shape: FilterShape, base: dict[str, Any], wanted: int, after: Cursor | None
    ) -> list[Row]:
        # Tasks with a due day first, then those without. Each part is one index range scan on
        # (user_id, due_date, id), the same on both databases whatever they do with NULLs. A
        # date filter never matches a task without a due day: then the second part is skipped.
        postgres = self.postgres
        rows: list[Row] = []
        in_dated_part = after is None or after.key is not None
        if in_dated_part:
            paged = after is not None
            statement = self._statement(
                ("dated", shape, paged),
                lambda: dated_statement(shape, paged, postgres),
                planned_per_call=planned_per_call(shape, Plan.RANGE),
            )
            params: dict[str, Any] = {**base, "limit": wanted}
            if after is not None:
                params |= cursor_params(after)
            rows = await self.database.fetch(statement, params)
        dated_only = shape.due_from or shape.due_to
        if len(rows) < wanted and not dated_only:
            paged = after is not None and not in_dated_part
            statement = self._statement(
                ("undated", shape, paged),
                lambda: undated_statement(shape, paged, postgres),
                planned_per_call=planned_per_call(shape, Plan.RANGE),
            )
            params = {**base, "limit": wanted - len(rows)}
            if after is not None and paged:
                params["after_id"] = after.task_id
            rows.extend(await self.database.fetch(statement, params))
        return rows
