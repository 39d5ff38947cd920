"""The previous release's traffic during a migration: release 1.0.0's own statements in a loop.

A rolling deploy migrates the database while instances of the previous release keep serving:
`upgrade_under_load` seeds a database at revision 0001 (contract 1.0.0's schema), runs
`alembic upgrade head` in a subprocess, and meanwhile runs 1.0.0's list, insert and update
statements (as its store compiled them, prepared by psycopg as its pool did) from several
connections, timing each one and keeping every acknowledged write.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent.parent
COLUMNS = "id, user_id, title, description, completed, due_date, created_at, updated_at"
KEPT = ("user_id", "title", "description", "completed", "due_date")
# Release 1.0.0's statements for a list of 20, a create and an update of title and completion.
LIST = (
    f"SELECT {COLUMNS} FROM tasks WHERE tasks.user_id = %(owner)s"
    " ORDER BY tasks.created_at DESC, tasks.id DESC LIMIT %(limit)s"
)
INSERT = (
    "INSERT INTO tasks (user_id, title, description, completed, due_date, created_at,"
    " updated_at) VALUES (%(owner)s, %(title)s, %(description)s, false, %(due_date)s,"
    f" %(now)s, %(now)s) RETURNING {COLUMNS}"
)
UPDATE = (
    "UPDATE tasks SET title=%(title)s, completed=(NOT tasks.completed), updated_at=%(now)s"
    f" WHERE tasks.id = %(task_id)s AND tasks.user_id = %(owner)s RETURNING {COLUMNS}"
)
# Tasks at revision 0001, written by the database itself: fast enough for 1,000,000 rows.
SEED = """
    INSERT INTO tasks (user_id, title, description, completed, due_date, created_at, updated_at)
    SELECT 'user-' || (n %% %(users)s),
        'Task ' || n || CASE WHEN n %% 10 = 0 THEN ' Été à Paris' ELSE '' END,
        CASE WHEN n %% 2 = 0 THEN 'Details of task ' || n || ' ÉTÉ' END,
        n %% 4 = 0,
        CASE WHEN n %% 3 = 0 THEN date '2026-01-01' + n %% 400 END,
        timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second',
        timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
    FROM generate_series(1, %(tasks)s) AS n
"""


def owner_of(task_id: int, users: int) -> str:
    """The seeded owner of a seeded task (SEED's rule)."""
    return f"user-{task_id % users}"


def seed_revision_1(conninfo: str, *, tasks: int, users: int) -> None:
    """`tasks` tasks of `users` users at revision 0001, then VACUUM ANALYZE."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(SEED, {"tasks": tasks, "users": users})
        connection.execute("VACUUM ANALYZE tasks")


@dataclass
class Traffic:
    """What the previous release's statements saw while the migration ran."""

    statements: int = 0
    longest_wait: float = 0.0
    longest_statement: str = ""
    longest_started_at: float = 0.0  # time.perf_counter() when the longest wait began
    failures: list[str] = field(default_factory=list)
    # Acknowledged writes: task id -> the kept fields of the last acknowledged row.
    acknowledged: dict[int, dict[str, Any]] = field(default_factory=dict)
    # When each task's last write was acknowledged (time.perf_counter()).
    acknowledged_at: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UpgradeUnderLoad:
    """The upgrade's duration, exit status and output, and the traffic beside it."""

    seconds: float
    started_at: float  # time.perf_counter() when the upgrade began
    finished_at: float  # and when it had exited
    returncode: int
    output: str
    traffic: Traffic
    # When the watched trigger was last seen (time.perf_counter()), if one was watched.
    trigger_last_seen: float = 0.0


async def _last_seen(conninfo: str, trigger: str, stop: asyncio.Event) -> float:
    """Until `stop`, when `trigger` was last seen on the database (polled every 20 ms)."""
    seen = 0.0
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        while not stop.is_set():
            cursor = await connection.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s", (trigger,)
            )
            if await cursor.fetchone():
                seen = time.perf_counter()
            await asyncio.sleep(0.02)  # a poll interval, until the upgrade ends
    return seen


async def _serve(
    conninfo: str,
    worker: int,
    workers: int,
    tasks: int,
    users: int,
    stop: asyncio.Event,
    lock_wait: float,
) -> Traffic:
    """One connection of the previous release: list, insert and update, until `stop`."""
    traffic = Traffic()
    rng = random.Random(worker)
    # Each worker updates its own seeded tasks: the last acknowledged update is the row's.
    own = range(1 + worker, tasks + 1, workers)
    # A statement that waits for a lock longer than `lock_wait` fails: the bound on what a
    # migration may make the previous release wait is checked by the server, on the lock
    # itself, whatever else keeps the machine's CPUs busy.
    connection = await psycopg.AsyncConnection.connect(
        conninfo,
        autocommit=True,
        row_factory=dict_row,
        options=f"-c lock_timeout={int(lock_wait * 1000)}",
    )
    async with connection:
        while not stop.is_set():
            task_id = rng.choice(own)
            owner = owner_of(task_id, users)
            now = datetime.now(UTC)
            choice = rng.random()
            if choice < 0.5:
                kind, query = "list", LIST
                params: dict[str, Any] = {"owner": owner, "limit": 21}
            elif choice < 0.75:
                kind, query = "insert", INSERT
                params = {
                    "owner": owner,
                    "title": f"Written during the migration {worker}-{traffic.statements} Straße",
                    "description": rng.choice([None, "ÉTÉ à Paris"]),
                    "due_date": rng.choice([None, date(2026, 12, 24)]),
                    "now": now,
                }
            else:
                kind, query = "update", UPDATE
                params = {"owner": owner, "task_id": task_id, "title": f"Renamed ÉTÉ {now}"}
                params["now"] = now
            started = time.perf_counter()
            try:
                cursor = await connection.execute(query, params)
                rows = await cursor.fetchall()
            except psycopg.Error as error:
                traffic.failures.append(f"{kind}: {type(error).__name__}: {error}")
                continue
            finally:
                waited = time.perf_counter() - started
                traffic.statements += 1
                if waited > traffic.longest_wait:
                    traffic.longest_wait, traffic.longest_statement = waited, kind
                    traffic.longest_started_at = started
            if kind != "list":
                for row in rows:
                    traffic.acknowledged[row["id"]] = {name: row[name] for name in KEPT}
                    traffic.acknowledged_at[row["id"]] = time.perf_counter()
            await asyncio.sleep(0.005)  # a bounded load: about 100 statements/s per worker
    return traffic


async def upgrade_under_load(
    url: str,
    conninfo: str,
    *,
    tasks: int,
    users: int,
    workers: int = 4,
    lock_wait: float = 1.0,
    watch_trigger: str | None = None,
) -> UpgradeUnderLoad:
    """`alembic upgrade head` on a seeded database while the previous release serves it;
    a statement of the previous release waiting for a lock past `lock_wait` fails. With
    `watch_trigger`, when that trigger (a migration's own) was last there."""
    stop = asyncio.Event()
    serving = [
        asyncio.create_task(_serve(conninfo, worker, workers, tasks, users, stop, lock_wait))
        for worker in range(workers)
    ]
    watching = None
    if watch_trigger is not None:
        watching = asyncio.create_task(_last_seen(conninfo, watch_trigger, stop))
    await asyncio.sleep(0.5)  # the previous release is serving before the upgrade starts
    started = time.perf_counter()
    migration = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "upgrade",
        "head",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await migration.communicate()
    finished_at = time.perf_counter()
    stop.set()
    merged = Traffic()
    for traffic in await asyncio.gather(*serving):
        merged.statements += traffic.statements
        merged.failures += traffic.failures
        merged.acknowledged.update(traffic.acknowledged)
        merged.acknowledged_at.update(traffic.acknowledged_at)
        if traffic.longest_wait > merged.longest_wait:
            merged.longest_wait = traffic.longest_wait
            merged.longest_statement = traffic.longest_statement
            merged.longest_started_at = traffic.longest_started_at
    return UpgradeUnderLoad(
        seconds=finished_at - started,
        started_at=started,
        finished_at=finished_at,
        returncode=migration.returncode or 0,
        output=output.decode(errors="replace"),
        traffic=merged,
        trigger_last_seen=0.0 if watching is None else await watching,
    )


def stored_rows(conninfo: str, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The kept fields of these tasks as stored now."""
    with psycopg.connect(conninfo, row_factory=dict_row) as connection:
        rows = connection.execute(
            f"SELECT id, {', '.join(KEPT)} FROM tasks WHERE id = ANY(%s)", (task_ids,)
        ).fetchall()
    return {row["id"]: {name: row[name] for name in KEPT} for row in rows}
