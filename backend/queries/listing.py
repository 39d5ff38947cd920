"""The SQL of a list: which filters it uses (its shape), the plans that can answer it, and
their statements, always within one owner's rows. backend/queries/pages.py runs them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    Select,
    SmallInteger,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    tuple_,
)

from backend.storage.database import Row
from backend.storage.models import PRIORITY_RANKS, SEARCH_TABLE
from backend.storage.task_table import COLUMNS, task_tag, tasks
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import Cursor
from backend.tasks.search import fts_query, like_pattern
from generated.models import TaskSort, TaskStatusFilter

# Lists with a tag or words read this many rows of the owner's range before anything else.
WINDOW_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class FilterShape:
    """Which filters a list uses: the shape of its SQL, whatever the values (one per statement)."""

    status: TaskStatusFilter
    priority: bool
    tags: int
    due_from: bool
    due_to: bool
    words: int
    full_text: bool  # SQLite: the words a trigram index can find, as one FTS5 query
    remind_from: bool = False
    remind_to: bool = False

    @classmethod
    def of(cls, filters: TaskFilters) -> FilterShape:
        return cls(
            filters.status,
            filters.priority is not None,
            len(filters.tags),
            filters.due_from is not None,
            filters.due_to is not None,
            len(filters.words),
            fts_query(filters.words) is not None,
            filters.remind_from is not None,
            filters.remind_to is not None,
        )


def filter_params(filters: TaskFilters, postgres: bool) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filters.priority is not None:
        params["priority"] = PRIORITY_RANKS[filters.priority.value]
    params |= {f"tag_{index}": tag for index, tag in enumerate(filters.tags)}
    if filters.due_from is not None:
        params["due_from"] = filters.due_from
    if filters.due_to is not None:
        params["due_to"] = filters.due_to
    for index, word in enumerate(filters.words):
        params[f"word_{index}"] = word
        if postgres:
            params[f"pattern_{index}"] = like_pattern(word)
    full_text = fts_query(filters.words)
    if full_text is not None and not postgres:
        params["full_text"] = full_text
    if filters.remind_from is not None:
        params["remind_from"] = filters.remind_from
    if filters.remind_to is not None:
        params["remind_to"] = filters.remind_to
    return params


class Plan(Enum):
    """How a list statement finds its rows."""

    RANGE = "range"  # read the owner's range of the order's index, checking each filter
    WINDOW = "window"  # the same, stopping at a bound: at most WINDOW_ROWS rows of the range
    MATCHES = "matches"  # start from the tag's or the words' matches, then sort those


def _contains(
    folded: ColumnElement[str], index: int, postgres: bool, plan: Plan
) -> ColumnElement[bool]:
    if postgres and plan is not Plan.WINDOW:  # LIKE '%word%' is what the trigram index serves
        pattern: BindParameter[str] = bindparam(f"pattern_{index}")
        return folded.like(pattern, escape="\\")
    # A window is read row by row, whatever a planner estimates for the trigram index.
    word: BindParameter[str] = bindparam(f"word_{index}")
    return func.strpos(folded, word) > 0 if postgres else func.instr(folded, word) > 0


def plans_for(shape: FilterShape, postgres: bool) -> list[Plan]:
    """How a created, title or priority list with a tag or words is read: a window first.

    Whether to read the owner's range until the page is full, or to start from the matches
    and sort them, depends on how many match. Measured at 1,000,000 tasks, a tag or word on
    1% of them: the planners' choice (PostgreSQL from statistics: the trigram index, then a
    sort of 10,000 rows; SQLite, without statistics, the whole range for a rare match)
    costs tens of milliseconds where reading the range costs one. So both databases first
    read at most WINDOW_ROWS rows of the range; only when they hold no full page does the
    second step run: the planner's own choice on PostgreSQL, the matches on SQLite. On
    SQLite, where the owner's range holds a window, the list first counts each tag's and
    the words' matches up to match_probe.FEW_MATCHES: when all are fewer, the window could
    not fill a page (a word in 10 tasks read all 5,000 rows, 4.9 ms, before its matches took
    0.3), so the list starts from the matches.
    """
    if not (shape.tags or shape.words):
        return []
    return [Plan.WINDOW, Plan.RANGE if postgres else Plan.MATCHES]


def planned_per_call(shape: FilterShape, plan: Plan) -> bool:
    """Whether the planner must see each call's values: with a tag or words, how many rows
    match decides between the owner's range and the tag's or words' index. Prepared, such a
    statement gets PostgreSQL's generic plan after 5 calls, made for any value: for a word in
    10 of 1,000,000 tasks it read the owner's whole range, 560-770 ms a call against 0.4 ms
    with a plan for the word (measured). A window's plan is the same whatever the values: a
    bounded range, each row checked."""
    return bool(shape.tags or shape.words) and plan is not Plan.WINDOW


def listing(shape: FilterShape, postgres: bool, plan: Plan = Plan.RANGE) -> Select[Any]:
    owner_column: ColumnElement[str] = tasks.c.user_id
    if plan is Plan.MATCHES:  # no index serves `user_id || ''`: the planner starts elsewhere
        owner_column = tasks.c.user_id.concat(literal_column("''"))
    statement = select(*COLUMNS).where(owner_column == bindparam("owner"))
    if shape.status is TaskStatusFilter.PENDING:
        statement = statement.where(not_(tasks.c.completed))
    elif shape.status is TaskStatusFilter.COMPLETED:
        statement = statement.where(tasks.c.completed)
    if shape.priority:
        statement = statement.where(tasks.c.priority == bindparam("priority", type_=SmallInteger))
    for index in range(shape.tags):
        tag: BindParameter[str] = bindparam(f"tag_{index}")
        if plan is Plan.WINDOW and postgres:
            # A few rows: each one's own array of tags. A join with task_tag let the planner
            # start from every row of the tag instead (12.7 against 0.8-1.0 ms a call).
            statement = statement.where(tag == any_(tasks.c.tags))
        elif plan is Plan.WINDOW:  # a few rows: look each one's tag up by the primary key
            # The owner's own row, looked up by the primary key: `user_id` is compared with
            # the row's, not the parameter's, or PostgreSQL's planner may start from every
            # task_tag row of the owner and tag (10,000 at 1% of 1,000,000) instead.
            carries = select(task_tag.c.task_id).where(
                task_tag.c.task_id == tasks.c.id,
                task_tag.c.tag == tag,
                task_tag.c.user_id == tasks.c.user_id,
            )
            statement = statement.where(carries.exists())
        else:
            tagged = select(task_tag.c.task_id).where(
                task_tag.c.user_id == bindparam("owner"), task_tag.c.tag == tag
            )
            statement = statement.where(tasks.c.id.in_(tagged))
    if shape.due_from:
        statement = statement.where(tasks.c.due_date >= bindparam("due_from", type_=Date))
    if shape.due_to:
        statement = statement.where(tasks.c.due_date <= bindparam("due_to", type_=Date))
    for index in range(shape.words):
        statement = statement.where(
            or_(
                _contains(tasks.c.title_folded, index, postgres, plan),
                _contains(tasks.c.description_folded, index, postgres, plan),
            )
        )
    if shape.full_text and plan is Plan.MATCHES:  # elsewhere the words are checked row by row
        search = table(SEARCH_TABLE, column("rowid"))
        matching = select(search.c.rowid).where(
            literal_column(SEARCH_TABLE).op("MATCH")(bindparam("full_text"))
        )
        statement = statement.where(tasks.c.id.in_(matching))
    return statement.limit(bindparam("limit", type_=Integer))


def _after() -> Any:
    return tuple_(bindparam("after_key"), bindparam("after_id", type_=BigInteger))


def _order(sort: TaskSort) -> tuple[Any, Any, bool]:
    """The order's key (a tuple of columns), its ORDER BY, and whether it descends."""
    if sort is TaskSort.CREATED:
        key = tuple_(tasks.c.created_at, tasks.c.id)
        return key, (tasks.c.created_at.desc(), tasks.c.id.desc()), True
    if sort is TaskSort.PRIORITY:
        key = tuple_(tasks.c.priority, tasks.c.created_at, tasks.c.id)
        order = (tasks.c.priority.desc(), tasks.c.created_at.desc(), tasks.c.id.desc())
        return key, order, True
    return tuple_(tasks.c.title, tasks.c.id), (tasks.c.title, tasks.c.id), False


def _position(prefix: str, sort: TaskSort) -> Any:
    """A position in the order, as bound parameters `{prefix}_key`, `{prefix}_id` (and rank)."""
    parts: list[Any] = [bindparam(f"{prefix}_key"), bindparam(f"{prefix}_id", type_=BigInteger)]
    if sort is TaskSort.PRIORITY:
        parts.insert(0, bindparam(f"{prefix}_rank", type_=SmallInteger))
    return tuple_(*parts)


def list_statement(
    shape: FilterShape, sort: TaskSort, paged: bool, postgres: bool, plan: Plan = Plan.RANGE
) -> Select[Any]:
    """Created, title or priority order: one range of an index led by user_id, from the cursor."""
    key, order, descending = _order(sort)
    statement = listing(shape, postgres, plan).order_by(*order)
    if paged:
        after = _position("after", sort)
        statement = statement.where(key < after if descending else key > after)
    if plan is Plan.WINDOW:
        bound = _position("bound", sort)
        statement = statement.where(key >= bound if descending else key <= bound)
    return statement


def window_end_statement(sort: TaskSort, paged: bool) -> Select[Any]:
    """The position WINDOW_ROWS rows into the owner's range (from the cursor), if it has them.

    Only the order's own columns are read, so the index of the order answers alone: on
    SQLite every row skipped by the OFFSET is otherwise read from the table too (0.25-0.45
    against 0.8-0.96 ms at 1,000,000 tasks, measured).
    """
    key, order, descending = _order(sort)
    columns = [tasks.c.id, tasks.c.title if sort is TaskSort.TITLE else tasks.c.created_at]
    if sort is TaskSort.PRIORITY:
        columns.append(tasks.c.priority.label("rank"))
    statement = (
        select(*columns)
        .where(tasks.c.user_id == bindparam("owner"))
        .order_by(*order)
        .offset(bindparam("window", type_=Integer))
        .limit(1)
    )
    if paged:
        after = _position("after", sort)
        statement = statement.where(key < after if descending else key > after)
    return statement


def dated_statement(shape: FilterShape, paged: bool, postgres: bool) -> Select[Any]:
    statement = listing(shape, postgres).where(tasks.c.due_date.is_not(None))
    if paged:
        statement = statement.where(tuple_(tasks.c.due_date, tasks.c.id) > _after())
    return statement.order_by(tasks.c.due_date, tasks.c.id)


def reminder_statement(shape: FilterShape, paged: bool, postgres: bool) -> Select[Any]:
    """sort=remind_at: the tasks still to be reminded, earliest first, from the window's start.

    The conditions repeat ix_tasks_owner_remind_at's own (`remind_at IS NOT NULL AND NOT
    completed`), so both planners read that partial index: one range per page. SQLite uses a
    partial index only when the query's WHERE holds each term of the index's WHERE as written,
    and SQLAlchemy spells `not_(completed)` `completed = 0` there (no native boolean), which
    SQLite does not match to `NOT completed`: it read the owner's whole range of another index
    and sorted it. So the term is written as the index writes it, on both databases."""
    remind_at = tasks.c.remind_at
    # Text, not a typed column: a Boolean expression gets `= 1` appended on SQLite.
    pending = text(f"NOT {tasks.name}.{tasks.c.completed.name}")
    statement = listing(shape, postgres).where(remind_at.is_not(None), pending)
    if shape.remind_from:
        statement = statement.where(remind_at >= bindparam("remind_from", type_=remind_at.type))
    if shape.remind_to:
        statement = statement.where(remind_at < bindparam("remind_to", type_=remind_at.type))
    if paged:
        after = tuple_(
            bindparam("after_key", type_=remind_at.type),
            bindparam("after_id", type_=BigInteger),
        )
        statement = statement.where(tuple_(remind_at, tasks.c.id) > after)
    return statement.order_by(remind_at, tasks.c.id)


def undated_statement(shape: FilterShape, paged: bool, postgres: bool) -> Select[Any]:
    statement = listing(shape, postgres).where(tasks.c.due_date.is_(None))
    if paged:
        statement = statement.where(tasks.c.id > bindparam("after_id", type_=BigInteger))
    return statement.order_by(tasks.c.id)


def cursor_params(after: Cursor) -> dict[str, Any]:
    if isinstance(after.key, tuple):
        rank, created_at = after.key
        return {"after_rank": rank, "after_key": created_at, "after_id": after.task_id}
    return {"after_key": after.key, "after_id": after.task_id}


def bound_params(end: Row, sort: TaskSort) -> dict[str, Any]:
    key = end["title"] if sort is TaskSort.TITLE else end["created_at"]
    return {"bound_key": key, "bound_id": end["id"], "bound_rank": end.get("rank")}
