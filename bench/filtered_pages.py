"""`python -m bench.filtered_pages`: the database work of each filtered first page, in process.

The filtered pages `make bench` measures for one user owning 1,000,000 tasks (bench/plan.py's
FILTERED_PAGES and the deep page of a tag, on bench/database.py's data), read straight
through the store of a checkout on SQLite: no HTTP, no load generator, one call at a time.
For each page, the milliseconds spent in the database's `fetch` (every statement of the
page) and in the whole `list_tasks` call (with the rows made into models), beside the plain
first page of a user with 1,000 tasks in the same file. Each `--tree` (a `git worktree` of
another revision, say) is measured in its own process, the trees interleaved round by
round; the medians of the rounds are printed with their ratio to the plain page.
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
from collections.abc import Mapping
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
    from backend.schema import upgrade_to_head
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


async def measure(path: Path, rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Per page, the median milliseconds of `calls` calls, once per round: database, store."""
    from backend.db import Row, Statement
    from backend.filters import TaskFilters
    from backend.sqlite import SqliteDatabase
    from backend.store import OwnerId, TaskStore
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
            database_ms, store_ms = [], []
            gc.collect()
            for call in range(calls + calls // 5):
                database.fetching = 0.0
                started = time.perf_counter()
                page = await store.list_tasks(owner, filters, sort, LIMIT, after)
                elapsed = time.perf_counter() - started
                if not page.tasks:
                    raise SystemExit(f"{name}: no task listed")
                if call >= calls // 5:  # the first fifth warms the caches up
                    database_ms.append(database.fetching * 1000)
                    store_ms.append(elapsed * 1000)
            figures[name]["database"].append(statistics.median(database_ms))
            figures[name]["store"].append(statistics.median(store_ms))
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.filtered_pages", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--database", type=Path, help="a file seeded by an earlier run (kept)")
    parser.add_argument("--runs", type=int, default=5, help="processes per tree (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per process (default 3)")
    parser.add_argument("--calls", type=int, default=50, help="calls per page and round")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
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
