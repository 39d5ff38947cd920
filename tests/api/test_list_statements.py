"""The list's reads (backend/queries/pages.py, with backend/queries/listing.py's statements)
against a model of the rules, on both databases: for each filter, order and plan, every
page of a small owner's tasks holds the tasks the rules name, in their order, each once.

The plans are forced with the bounds they are chosen by (listing.WINDOW_ROWS and
match_probe.FEW_MATCHES): the owner's range, a window that fills its page, a window that
does not (then the matches, or PostgreSQL's own plan), and the matches straight away.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import backend.queries.listing
import backend.queries.match_probe
from backend.queries.listing import (
    FilterShape,
    Plan,
    bound_params,
    cursor_params,
    filter_params,
    list_statement,
    plans_for,
    window_end_statement,
)
from backend.queries.pages import TaskPages
from backend.queries.statements import StatementCache
from backend.settings import Settings
from backend.storage.database import Database, Row, Statement
from backend.storage.factory import connect, sync_url
from backend.storage.models import PRIORITY_RANKS
from backend.storage.schema import upgrade_to_head
from backend.storage.sqlite import sqlite_timestamp
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import Cursor, SortKey
from backend.tasks.search import fold
from generated.models import TaskPriority, TaskSort, TaskStatusFilter
from tests.conftest import DATABASES, SECRET
from tests.support.passthrough_database import PassThroughDatabase
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.anyio

OWNER, OTHER = "lister", "someone-else"
TASKS = 46
START = datetime(2026, 3, 1, tzinfo=UTC)
PRIORITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Model:
    """One task as the rules see it."""

    id: int
    title: str
    text: str  # title and description, folded
    completed: bool
    priority: int
    tags: frozenset[str]
    created_at: datetime
    due_date: date | None
    remind_at: datetime | None


def task_values(index: int, owner: str) -> dict[str, Any]:
    word = "zebra" if index % 6 == 0 else "errand"
    title = f"n{(index * 7) % 23:02d} {word}"  # index and index + 23 share a title
    description = "save 50%_off" if index % 8 == 5 else ("garden shed" if index % 4 == 1 else "")
    tags = [["home"], ["home", "work"], []][index % 3] + (["rare"] if index % 10 == 3 else [])
    remind_at = START + timedelta(hours=index % 7) if index % 3 != 2 else None
    return {
        "user_id": owner,
        "title": title,
        "description": description,
        "completed": index % 4 == 0,
        "priority": 1 + index % 3,
        "tags": tags,
        "created_at": START + timedelta(seconds=index // 2),  # two tasks a second: ties
        "due_date": date(2026, 3, 1) + timedelta(days=index % 9) if index % 5 else None,
        "due_at": None,
        "remind_before_minutes": 30 if remind_at else None,
        "remind_at": remind_at,
        "title_folded": fold(title),
        "description_folded": fold(description),
    }


def stored(values: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    if not sqlite:
        return {**values, "updated_at": values["created_at"]}
    moments = {
        name: sqlite_timestamp(value) if isinstance(value, datetime) else value
        for name, value in values.items()
    }
    return {**moments, "updated_at": moments["created_at"], "tags": json.dumps(values["tags"])}


@pytest.fixture(params=DATABASES, ids=DATABASES, scope="module")
def lists(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[Model]]]:
    """A database of its own: TASKS tasks of OWNER, and as many of OTHER, alike."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('lists') / 'lists.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"lists_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    engine = sa.create_engine(sync_url(url))
    sqlite = engine.dialect.name == "sqlite"
    if not sqlite:
        # No index is read: rows come in the order the statement asks for, not an index's.
        name = sa.make_url(url).database
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for scan in ("indexscan", "indexonlyscan", "bitmapscan"):
                connection.execute(sa.text(f'ALTER DATABASE "{name}" SET enable_{scan} = off'))
    models = []
    with engine.begin() as connection:
        # Written in descending id order: on PostgreSQL a later row sits after the others on
        # the heap, so ties come back out of id order unless a statement orders by id too.
        # (SQLite keeps rows, and equal keys in an index, in id order.)
        for task_id in range(2 * TASKS, 0, -1):
            index, owner = (task_id - 1) // 2, (OTHER, OWNER)[(task_id - 1) % 2]
            values = task_values(index, owner)
            row = {"id": task_id, **stored(values, sqlite)}
            names = ", ".join(row)
            marks = ", ".join(f":{name}" for name in row)
            connection.execute(sa.text(f"INSERT INTO tasks ({names}) VALUES ({marks})"), row)
            if owner == OWNER:
                models.append(
                    Model(
                        task_id,
                        values["title"],
                        f"{values['title_folded']}\n{values['description_folded']}",
                        values["completed"],
                        values["priority"],
                        frozenset(values["tags"]),
                        values["created_at"],
                        values["due_date"],
                        values["remind_at"],
                    )
                )
    engine.dispose()
    yield url, models


def passes(task: Model, filters: TaskFilters) -> bool:
    if filters.status is TaskStatusFilter.PENDING and task.completed:
        return False
    if filters.status is TaskStatusFilter.COMPLETED and not task.completed:
        return False
    if filters.priority is not None and task.priority != PRIORITY_RANKS[filters.priority.value]:
        return False
    if not set(filters.tags) <= task.tags:
        return False
    if filters.due_from is not None and (task.due_date is None or task.due_date < filters.due_from):
        return False
    if filters.due_to is not None and (task.due_date is None or task.due_date > filters.due_to):
        return False
    return all(word in task.text for word in filters.words)


def expected(models: list[Model], filters: TaskFilters, sort: TaskSort) -> list[int]:
    """The ids of the list, in order, as the contract's rules name them."""
    found = [task for task in models if passes(task, filters)]
    key: Callable[[Model], Any]
    if sort is TaskSort.CREATED:
        key, reverse = (lambda task: (task.created_at, task.id)), True
    elif sort is TaskSort.PRIORITY:
        key, reverse = (lambda task: (task.priority, task.created_at, task.id)), True
    elif sort is TaskSort.TITLE:
        key, reverse = (lambda task: (task.title, task.id)), False
    elif sort is TaskSort.DUE_DATE:
        dated = sorted((task for task in found if task.due_date), key=lambda t: (t.due_date, t.id))
        undated = sorted((task for task in found if task.due_date is None), key=lambda t: t.id)
        return [task.id for task in dated + undated]
    else:
        low = filters.remind_from or datetime.min.replace(tzinfo=UTC)
        high = filters.remind_to or datetime.max.replace(tzinfo=UTC)
        found = [
            task
            for task in found
            if task.remind_at is not None and not task.completed and low <= task.remind_at < high
        ]
        key, reverse = (lambda task: (task.remind_at, task.id)), False
    return [task.id for task in sorted(found, key=key, reverse=reverse)]


class ReadsNoted(PassThroughDatabase):
    """The real database, noting each statement a read runs."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.reads: list[Statement] = []

    async def fetch(self, statement: Statement, params: Any) -> list[Row]:
        self.reads.append(statement)
        return await self.database.fetch(statement, params)


async def every_page(
    url: str,
    filters: TaskFilters,
    sort: TaskSort,
    limit: int,
    reads: list[Statement] | None = None,
) -> list[list[int]]:
    """The ids of every page; `reads` gets each statement the pages read."""
    database = ReadsNoted(
        connect(Settings(database_url=url, better_auth_secret=SECRET, _env_file=None))
    )
    pages = TaskPages(database, StatementCache(database))
    listed: list[list[int]] = []
    after = None
    try:
        for _ in range(TASKS + 2):
            page = await pages.page(OWNER, filters, sort, limit, after)
            listed.append([task.id for task in page.tasks])
            assert all(task.user_id == OWNER for task in page.tasks)
            after = page.next_cursor
            if after is None:
                return listed
    finally:
        await database.close()
        if reads is not None:
            reads.extend(database.reads)
    raise AssertionError("the pages never end")


def filters(**chosen: Any) -> TaskFilters:
    return TaskFilters(**chosen)


LISTS = {
    "all": filters(),
    "pending": filters(status=TaskStatusFilter.PENDING),
    "completed": filters(status=TaskStatusFilter.COMPLETED),
    "high": filters(priority=TaskPriority.HIGH),
    "home": filters(tags=("home",)),
    "home-work": filters(tags=("home", "work")),
    "rare": filters(tags=("rare",)),
    "rare-pending": filters(tags=("rare",), status=TaskStatusFilter.PENDING),
    "due-window": filters(due_from=date(2026, 3, 3), due_to=date(2026, 3, 6)),
    "due-from": filters(due_from=date(2026, 3, 8)),
    "zebra": filters(words=("zebra",)),
    "shed-errand": filters(words=("errand", "shed")),
    "short-word": filters(words=("n0",)),
    "percent": filters(words=("0%_o",)),
    "home-zebra": filters(tags=("home",), words=("zebra",)),
    "work-low-shed": filters(tags=("work",), priority=TaskPriority.LOW, words=("shed",)),
}
ORDERS = [TaskSort.CREATED, TaskSort.PRIORITY, TaskSort.TITLE, TaskSort.DUE_DATE]
# (WINDOW_ROWS, FEW_MATCHES): the range; a window that fills a page; a window too short for
# one, then the matches (SQLite) or the planner's choice (PostgreSQL); the matches at once.
PLANS = {"range": (10_000, 0), "window": (4, 0), "short-window": (12, 0), "matches": (4, 10_000)}


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sort", ORDERS, ids=lambda sort: sort.value)
@pytest.mark.parametrize("name", LISTS)
async def test_every_page_holds_the_tasks_the_rules_name_in_order(
    lists: tuple[str, list[Model]],
    name: str,
    sort: TaskSort,
    plan: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, models = lists
    window_rows, few = PLANS[plan]
    monkeypatch.setattr(backend.queries.listing, "WINDOW_ROWS", window_rows)
    monkeypatch.setattr(backend.queries.match_probe, "FEW_MATCHES", few)
    wanted = expected(models, LISTS[name], sort)
    pages = await every_page(url, LISTS[name], sort, 3)
    assert [task for page in pages for task in page] == wanted
    assert [len(page) for page in pages[:-1]] == [3] * (len(pages) - 1)
    assert len(pages[-1]) == (len(wanted) % 3 or min(3, len(wanted)))


REMINDERS = {
    "all": filters(),
    "from": filters(remind_from=START + timedelta(hours=2)),
    "to": filters(remind_to=START + timedelta(hours=4)),
    "between": filters(
        remind_from=START + timedelta(hours=1), remind_to=START + timedelta(hours=3)
    ),
    "home": filters(tags=("home",), remind_from=START + timedelta(hours=1)),
    "zebra": filters(words=("zebra",)),
}


@pytest.mark.parametrize("name", REMINDERS)
async def test_reminder_pages_hold_the_pending_reminders_in_their_order(
    lists: tuple[str, list[Model]], name: str
) -> None:
    url, models = lists
    wanted = expected(models, REMINDERS[name], TaskSort.REMIND_AT)
    assert wanted, "the list finds reminders"
    pages = await every_page(url, REMINDERS[name], TaskSort.REMIND_AT, 2)
    assert [task for page in pages for task in page] == wanted


@pytest.mark.parametrize("limit", [1, 4, TASKS, TASKS + 1])
async def test_a_page_holds_up_to_its_limit_and_the_last_has_no_cursor(
    lists: tuple[str, list[Model]], limit: int
) -> None:
    url, models = lists
    pages = await every_page(url, filters(), TaskSort.TITLE, limit)
    assert [task for page in pages for task in page] == expected(models, filters(), TaskSort.TITLE)
    assert [len(page) for page in pages] == [
        min(limit, TASKS - start) for start in range(0, TASKS, limit)
    ]


def is_window_step(statement: Statement) -> bool:
    """The steps whose plan is the same whatever the values: the window's end, the count of
    each tag's matches, the window itself."""
    return any(name in statement.sql for name in ("window", "few_matches", "bound_key"))


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sort", [*ORDERS, TaskSort.REMIND_AT], ids=lambda sort: sort.value)
@pytest.mark.parametrize("name", ["all", "high", "home", "zebra", "home-zebra"])
async def test_a_read_is_planned_per_call_only_where_a_tag_or_words_decide_its_plan(
    lists: tuple[str, list[Model]],
    name: str,
    sort: TaskSort,
    plan: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL must plan a list with a tag or words for each call's values (how many
    rows match decides between the owner's range and the matches), except the steps of a
    window; every other read may keep one plan (listing.planned_per_call)."""
    url, _ = lists
    window_rows, few = PLANS[plan]
    monkeypatch.setattr(backend.queries.listing, "WINDOW_ROWS", window_rows)
    monkeypatch.setattr(backend.queries.match_probe, "FEW_MATCHES", few)
    chosen = LISTS[name]
    reads: list[Statement] = []
    await every_page(url, chosen, sort, 3, reads)
    decided_by_values = bool(chosen.tags or chosen.words)
    marks = [(read.planned_per_call, is_window_step(read)) for read in reads]
    assert marks == [(decided_by_values and not window, window) for _, window in marks]
    assert any(not window for _, window in marks)


@pytest.mark.parametrize("plan", PLANS)
async def test_one_statement_cache_serves_every_list_in_turn(
    lists: tuple[str, list[Model]], plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store keeps one cache of statements for all its lists: each list, order and page
    gets its own statement from it, whatever was read before."""
    url, models = lists
    window_rows, few = PLANS[plan]
    monkeypatch.setattr(backend.queries.listing, "WINDOW_ROWS", window_rows)
    monkeypatch.setattr(backend.queries.match_probe, "FEW_MATCHES", few)
    database = connect(Settings(database_url=url, better_auth_secret=SECRET, _env_file=None))
    pages = TaskPages(database, StatementCache(database))
    # Each list after others of more tags, and again after others of fewer.
    most_tags_first = sorted(LISTS, key=lambda name: -len(LISTS[name].tags))
    chosen = [
        *((LISTS[name], sort) for sort in ORDERS for name in [*most_tags_first, *LISTS]),
        *((REMINDERS[name], TaskSort.REMIND_AT) for name in REMINDERS),
    ]
    try:
        for listed_filters, sort in chosen:
            listed: list[int] = []
            after = None
            for _ in range(TASKS + 2):
                page = await pages.page(OWNER, listed_filters, sort, 5, after)
                listed += [task.id for task in page.tasks]
                after = page.next_cursor
                if after is None:
                    break
            assert listed == expected(models, listed_filters, sort), (listed_filters, sort)
    finally:
        await database.close()


WINDOW = 10  # rows of the owner's range a window statement reads, in these tests


def in_order(models: list[Model], sort: TaskSort) -> list[int]:
    """The ids of the owner's whole range in the order's index, whatever the filters."""
    return expected(models, filters(), sort)


@pytest.mark.parametrize("paged", [False, True], ids=["first", "after-a-cursor"])
@pytest.mark.parametrize("plan", list(Plan), ids=lambda plan: plan.value)
@pytest.mark.parametrize("sort", ORDERS[:3], ids=lambda sort: sort.value)
@pytest.mark.parametrize("name", LISTS)
async def test_each_plan_statement_returns_the_rows_of_its_part_of_the_range(
    lists: tuple[str, list[Model]], name: str, sort: TaskSort, plan: Plan, paged: bool
) -> None:
    """listing's statements run as they are, from the start or after a cursor (the 4th task
    of the owner's range): the window's end is one row, WINDOW rows further into the range;
    a window statement returns the rows up to it that pass the filters; the range and the
    matches return every row that passes, in order."""
    url, models = lists
    chosen = LISTS[name]
    database = connect(Settings(database_url=url, better_auth_secret=SECRET, _env_file=None))
    postgres = database.dialect.name == "postgresql"
    if postgres and plan is Plan.MATCHES:
        # PostgreSQL's second step is its planner's own choice: it never starts from matches.
        assert Plan.MATCHES not in plans_for(FilterShape.of(chosen), postgres)
        await database.close()
        return
    positions = in_order(models, sort)
    first = 4 if paged else 0  # the position of the first row after the cursor
    params = {"owner": OWNER, **filter_params(chosen, postgres), "limit": TASKS + 1}
    if paged:
        by_id = {task.id: task for task in models}
        cursor = by_id[positions[first - 1]]
        after = Cursor(sort, chosen.status, key_of(cursor, sort), cursor.id)
        params |= cursor_params(after)
    later = set(positions[first:])
    wanted = [task for task in expected(models, chosen, sort) if task in later]
    try:
        if plan is Plan.WINDOW:
            end = window_end_statement(sort, paged)
            ends = await database.fetch(database.compile(end), {**params, "window": WINDOW})
            assert [row["id"] for row in ends] == [positions[first + WINDOW]]
            params |= bound_params(ends[0], sort)
            window = set(positions[first : first + WINDOW + 1])
            wanted = [task for task in wanted if task in window]
        statement = list_statement(FilterShape.of(chosen), sort, paged, postgres, plan)
        rows = await database.fetch(database.compile(statement), params)
    finally:
        await database.close()
    assert [row["id"] for row in rows] == wanted


def key_of(task: Model, sort: TaskSort) -> SortKey:
    if sort is TaskSort.CREATED:
        return task.created_at
    if sort is TaskSort.TITLE:
        return task.title
    if sort is TaskSort.PRIORITY:
        return (task.priority, task.created_at)
    if sort is TaskSort.REMIND_AT:
        return task.remind_at
    return task.due_date


@pytest.mark.parametrize("sort", [*ORDERS, TaskSort.REMIND_AT], ids=lambda sort: sort.value)
@pytest.mark.parametrize("name", ["pending", "home-zebra"])
async def test_a_page_cursor_names_its_last_task_the_order_and_the_filters(
    lists: tuple[str, list[Model]], name: str, sort: TaskSort
) -> None:
    url, models = lists
    chosen = LISTS[name]
    database = connect(Settings(database_url=url, better_auth_secret=SECRET, _env_file=None))
    try:
        page = await TaskPages(database, StatementCache(database)).page(
            OWNER, chosen, sort, 2, None
        )
    finally:
        await database.close()
    by_id = {task.id: task for task in models}
    last = by_id[expected(models, chosen, sort)[1]]
    assert [task.id for task in page.tasks] == expected(models, chosen, sort)[:2]
    assert page.next_cursor == Cursor(
        sort, chosen.status, key_of(last, sort), last.id, chosen.digest()
    )


def test_filter_params_are_the_values_of_the_filters_the_statement_uses() -> None:
    assert filter_params(filters(), postgres=False) == {}
    assert filter_params(filters(), postgres=True) == {}
    chosen = filters(
        priority=TaskPriority.LOW,
        tags=("home", "work"),
        due_from=date(2026, 3, 2),
        due_to=date(2026, 3, 4),
        words=("n0", "shed"),
        remind_from=START,
        remind_to=START + timedelta(hours=1),
    )
    common = {
        "priority": 1,
        "tag_0": "home",
        "tag_1": "work",
        "due_from": date(2026, 3, 2),
        "due_to": date(2026, 3, 4),
        "word_0": "n0",
        "word_1": "shed",
        "remind_from": START,
        "remind_to": START + timedelta(hours=1),
    }
    # SQLite's FTS5 query holds the words a trigram index can find; PostgreSQL's LIKE patterns.
    assert filter_params(chosen, postgres=False) == {**common, "full_text": '"shed"'}
    assert filter_params(chosen, postgres=True) == {
        **common,
        "pattern_0": "%n0%",
        "pattern_1": "%shed%",
    }
    assert "full_text" not in filter_params(filters(words=("n0",)), postgres=False)
