"""`python -m bench.filtered_pages`: the database work of each filtered first page, in process.

The filtered pages `make bench` measures for one user owning 1,000,000 tasks (bench/plan.py's
FILTERED_PAGES and the deep page of a tag, on bench/database.py's data), read straight
through the store of a checkout on SQLite: no HTTP, no load generator, one call at a time.
For each page, the milliseconds spent in the database's `fetch` (every statement of the
page) and in the whole `list_tasks` call (with the rows made into models), beside the plain
first page of a user with 1,000 tasks in the same file. Each `--tree` (a `git worktree` of
another revision, say) is measured in its own process, the trees interleaved round by
round; the medians of the rounds are printed with their ratio to the plain page.

`--reminders` measures instead the reminder lists of contract 1.4.0 on both databases (a
throwaway PostgreSQL 15 server besides the SQLite file): SCALE tasks of one user, one in 10
with a reminder over 2026 (bench/database.py's seed_reminders), the first page of
`sort=remind_at` in a one-minute and a one-week window and without one, against the plain
first page (`sort=created`) of the same user, with their ratio to it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCALE = 1_000_000
SMALL = 1_000
SCALER = "bench-user-scale"  # bench/plan.py's user of the scaling runs
SMALL_USER = "bench-user-small"
LIMIT = 20
DEEP_MATCHES = SCALE // 100 // 2  # bench/plan.py's deep page: half the tag's matches in
BASE_PAGE = "plain, 1,000 tasks"


def seed(path: Path) -> None:
    """A SQLite file of head's schema: SMALL tasks of one user, SCALE of another."""
    from backend.storage.schema import upgrade_to_head
    from bench import database as db

    upgrade_to_head(f"sqlite:///{path}")
    database = db.sqlite_database(path)
    db.seed_tasks(database, SMALL_USER, SMALL)
    db.seed_tasks(database, SCALER, SCALE)


def pages() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each page: its owner and the list's filters (as `TaskFilters.of` takes them)."""
    from bench import database as db

    return {
        BASE_PAGE: (SMALL_USER, {}),
        "plain, 1,000,000 tasks": (SCALER, {}),
        f"q 1% ({db.COMMON_WORD})": (SCALER, {"query": db.COMMON_WORD}),
        f"q 10 tasks ({db.RARE_WORD})": (SCALER, {"query": db.RARE_WORD}),
        f"tag 1% ({db.COMMON_TAG})": (SCALER, {"tags": [db.COMMON_TAG]}),
        "priority=high&sort=due_date": (SCALER, {"priority": "high", "sort": "due_date"}),
        "deep page, tag 1%": (SCALER, {"tags": [db.COMMON_TAG], "deep": True}),
    }


async def time_page(
    name: str, database: Any, listing: Callable[[], Awaitable[Any]], calls: int
) -> tuple[float, float, int]:
    """`calls` calls of `listing` (a store's list of one page), after a fifth as many that
    warm the caches and prepare the statements: the median milliseconds of the database's
    reads (`database.fetching`) and of the whole call, and the page's size."""
    database_ms, store_ms = [], []
    gc.collect()
    tasks = 0
    for call in range(calls + calls // 5):
        database.fetching = 0.0
        started = time.perf_counter()
        page = await listing()
        elapsed = time.perf_counter() - started
        tasks = len(page.tasks)
        if not tasks:
            raise SystemExit(f"{name}: no task listed")
        if call >= calls // 5:
            database_ms.append(database.fetching * 1000)
            store_ms.append(elapsed * 1000)
    return statistics.median(database_ms), statistics.median(store_ms), tasks


async def measure(path: Path, rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Per page, the median milliseconds of `calls` calls, once per round: database, store."""
    try:
        from backend.queries.store import OwnerId, TaskStore
        from backend.storage.database import Row, Statement
        from backend.storage.sqlite import SqliteDatabase
        from backend.tasks.filters import TaskFilters
    except ModuleNotFoundError:  # a `--tree` from before backend/ had rooms: one flat folder
        from backend.db import Row, Statement  # type: ignore[no-redef]
        from backend.filters import TaskFilters  # type: ignore[no-redef]
        from backend.sqlite import SqliteDatabase  # type: ignore[no-redef]
        from backend.store import OwnerId, TaskStore  # type: ignore[no-redef]
    from generated.models import TaskPriority, TaskSort, TaskStatusFilter

    class TimedDatabase(SqliteDatabase):
        fetching = 0.0

        async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
            started = time.perf_counter()
            try:
                return await super().fetch(statement, params)
            finally:
                self.fetching += time.perf_counter() - started

    database = TimedDatabase(str(path))
    store = TaskStore(database)
    requests = []
    for name, (owner, options) in pages().items():
        priority = options.get("priority")
        filters = TaskFilters.of(
            TaskStatusFilter.ALL,
            TaskPriority(priority) if priority else None,
            options.get("tags"),
            None,
            None,
            options.get("query"),
        )
        sort = TaskSort(options.get("sort", "created"))
        after = None
        if options.get("deep"):
            depth = 0
            while depth < DEEP_MATCHES:
                page = await store.list_tasks(OwnerId(owner), filters, sort, 100, after)
                after = page.next_cursor
                depth += 100
        requests.append((name, OwnerId(owner), filters, sort, after))
    figures: dict[str, dict[str, list[float]]] = {
        name: {"database": [], "store": []} for name, *_ in requests
    }
    for _ in range(rounds):
        for name, owner, filters, sort, after in requests:
            listing = partial(store.list_tasks, owner, filters, sort, LIMIT, after)
            database_ms, store_ms, _ = await time_page(name, database, listing, calls)
            figures[name]["database"].append(database_ms)
            figures[name]["store"].append(store_ms)
    await database.close()
    return figures


def run_child(tree: Path, path: Path, rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """One measurement in a new process that imports the tree's own `backend`."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(path),
        f"--rounds={rounds}",
        f"--calls={calls}",
    ]
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{REPO_ROOT}"}
    result = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {(result.stdout + result.stderr).strip()[-2000:]}")
    figures: dict[str, dict[str, list[float]]] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def report(results: dict[Path, dict[str, dict[str, list[float]]]]) -> None:
    for tree, per_page in results.items():
        base = {kind: statistics.median(per_page[BASE_PAGE][kind]) for kind in per_page[BASE_PAGE]}
        print(f"\n{tree}: median ms (ratio to the {BASE_PAGE} page); database | whole store call")
        for name, kinds in per_page.items():
            line = " | ".join(
                f"{statistics.median(values):.3f} ({statistics.median(values) / base[kind]:.2f}x)"
                for kind, values in kinds.items()
            )
            print(f"- {name}: {line}")


PLAIN_SCALE_PAGE = "plain, 1,000,000 tasks"


def reminder_pages() -> dict[str, dict[str, Any]]:
    """Each reminder page against the plain one: `TaskFilters.of` remind_from/remind_to, sort."""
    from bench import database as db

    start = db.REMINDER_WINDOW_START
    pages: dict[str, dict[str, Any]] = {PLAIN_SCALE_PAGE: {"sort": "created"}}
    for name, width in db.REMINDER_WINDOWS.items():
        pages[f"sort=remind_at, {name} window"] = {
            "sort": "remind_at",
            "remind_from": start,
            "remind_to": start + width,
        }
    pages["sort=remind_at, no window"] = {"sort": "remind_at"}
    return pages


async def measure_reminders(url: str, rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    """Per reminder page: median ms of each round (database, store) and the page's size."""
    from backend.queries.store import OwnerId, TaskStore
    from backend.settings import Settings
    from backend.storage.database import Row, Statement
    from backend.storage.factory import connect
    from backend.tasks.filters import TaskFilters
    from generated.models import TaskSort, TaskStatusFilter
    from tests.support.passthrough_database import PassThroughDatabase

    class TimedDatabase(PassThroughDatabase):
        """The server's database, timing its reads."""

        fetching = 0.0

        async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
            started = time.perf_counter()
            try:
                return await self.database.fetch(statement, params)
            finally:
                self.fetching += time.perf_counter() - started

    settings = Settings(database_url=url, better_auth_secret="b" * 64, _env_file=None)
    database = TimedDatabase(connect(settings))
    store = TaskStore(database)
    owner = OwnerId(SCALER)
    figures: dict[str, dict[str, Any]] = {}
    requests = []
    for name, options in reminder_pages().items():
        filters = TaskFilters.of(
            TaskStatusFilter.ALL,
            None,
            None,
            None,
            None,
            None,
            options.get("remind_from"),
            options.get("remind_to"),
        )
        requests.append((name, filters, TaskSort(options["sort"])))
        figures[name] = {"database": [], "store": [], "tasks": 0}
    try:
        for _ in range(rounds):
            for name, filters, sort in requests:
                listing = partial(store.list_tasks, owner, filters, sort, LIMIT, None)
                database_ms, store_ms, tasks = await time_page(name, database, listing, calls)
                figures[name]["database"].append(database_ms)
                figures[name]["store"].append(store_ms)
                figures[name]["tasks"] = tasks
    finally:
        await database.close()
    return figures


def seed_reminder_database(database: Any) -> None:
    """SCALE tasks of SCALER with reminders, in a database at head's schema."""
    from bench import database as db

    started = time.perf_counter()
    db.seed_tasks(database, SCALER, SCALE)
    reminded = db.seed_reminders(database, SCALER)
    seconds = time.perf_counter() - started
    print(
        f"{database.kind}: seeded {SCALE:,} tasks, {reminded:,} with a reminder, in {seconds:.0f} s"
    )


def report_reminders(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    for kind, per_page in results.items():
        base = {k: statistics.median(per_page[PLAIN_SCALE_PAGE][k]) for k in ("database", "store")}
        print(f"\n{kind}: median ms (ratio to the {PLAIN_SCALE_PAGE} page); database | store call")
        for name, kinds in per_page.items():
            line = " | ".join(
                f"{statistics.median(kinds[k]):.3f} ({statistics.median(kinds[k]) / base[k]:.2f}x)"
                for k in ("database", "store")
            )
            print(f"- {name} [{kinds['tasks']} tasks]: {line}")


def reminders_main(only: str | None, sqlite_path: Path | None, rounds: int, calls: int) -> int:
    from backend.storage.schema import upgrade_to_head
    from bench import database as db
    from tests.support.postgres import start_postgres

    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as scratch:
        if only in (None, "sqlite"):
            path = sqlite_path or Path(scratch) / "reminders.sqlite3"
            if not path.exists():
                upgrade_to_head(f"sqlite:///{path}")
                seed_reminder_database(db.sqlite_database(path))
            results["sqlite"] = asyncio.run(measure_reminders(f"sqlite:///{path}", rounds, calls))
        if only in (None, "postgres"):
            server = start_postgres(Path(scratch) / "postgres")
            try:
                url = server.create_database("bench")
                upgrade_to_head(url)
                seed_reminder_database(db.postgres_database(url, server.conninfo("bench")))
                results["postgres"] = asyncio.run(measure_reminders(url, rounds, calls))
            finally:
                server.destroy()
    report_reminders(results)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.filtered_pages", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--database", type=Path, help="a file seeded by an earlier run (kept)")
    parser.add_argument("--runs", type=int, default=5, help="processes per tree (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per process (default 3)")
    parser.add_argument("--calls", type=int, default=50, help="calls per page and round")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--reminders", action="store_true", help="the reminder pages, on both databases"
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="with --reminders")
    arguments = parser.parse_args(argv)
    if arguments.reminders:
        return reminders_main(arguments.only, arguments.database, arguments.rounds, arguments.calls)
    if arguments.child:
        figures = asyncio.run(measure(arguments.child, arguments.rounds, arguments.calls))
        print(json.dumps(figures))
        return 0
    trees = [tree.resolve() for tree in arguments.tree or [REPO_ROOT]]
    with tempfile.TemporaryDirectory(prefix="bench-filtered-") as scratch:
        path = arguments.database or Path(scratch) / "filtered.sqlite3"
        if not path.exists():
            started = time.perf_counter()
            seed(path)
            print(f"seeded {SMALL:,} + {SCALE:,} tasks in {time.perf_counter() - started:.0f} s")
        results: dict[Path, dict[str, dict[str, list[float]]]] = {tree: {} for tree in trees}
        for run in range(1, arguments.runs + 1):
            for tree in trees:
                figures = run_child(tree, path, arguments.rounds, arguments.calls)
                for name, kinds in figures.items():
                    for kind, values in kinds.items():
                        results[tree].setdefault(name, {}).setdefault(kind, []).extend(values)
                print(f"run {run}/{arguments.runs} {tree} done", flush=True)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
