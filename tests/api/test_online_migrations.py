"""The online migrations build the schema the locking chain built, survive being stopped
half-way, and fold text in SQL exactly as the server does (PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic import command

from backend.storage.schema import alembic_config, head_revision
from backend.tasks.search import fold
from migrations.folding import FOLD_FUNCTION, create_fold_function
from tests.support.postgres import PostgresServer
from tests.support.previous_release import seed_revision_1

pytestmark = [pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent.parent
LOCKING_CHAIN = Path(__file__).resolve().parent / "locking_chain"
KILL_DEADLINE_SECONDS = 60.0
TASKS = 40_000
LOCKED_TASK = 38_001  # the backfill stops at this row's batch while the test holds its lock


def new_database(server: PostgresServer, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    return server.create_database(name), name


def upgrade(url: str, revision: str, *, locking_chain: bool = False) -> None:
    config = alembic_config(url)
    if locking_chain:
        config.set_main_option("version_locations", str(LOCKING_CHAIN))
    command.upgrade(config, revision)


def schema_of(server: PostgresServer, database: str) -> str:
    """pg_dump --schema-only, without the lines that differ between any two dumps."""
    dump = subprocess.run(
        [
            str(server.bin_dir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            f"--host={server.host}",
            f"--port={server.port}",
            "--username=postgres",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(
        line
        for line in dump.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped"))
    )


@pytest.fixture
def reference_schema(postgres_server: PostgresServer) -> str:
    """The schema at head as the locking chain (release 1.1.0's migrations) built it."""
    url, name = new_database(postgres_server, "locking")
    upgrade(url, "head", locking_chain=True)
    return schema_of(postgres_server, name)


def test_the_online_chain_builds_the_schema_of_the_locking_chain(
    postgres_server: PostgresServer, reference_schema: str
) -> None:
    url, name = new_database(postgres_server, "online")
    upgrade(url, "0001")
    seed_revision_1(postgres_server.conninfo(name), tasks=1_000, users=10)
    upgrade(url, "head")
    schema = schema_of(postgres_server, name)
    assert "ix_tasks_search" in schema and "task_fold_migration" not in schema
    assert schema == reference_schema


@pytest.mark.slow
def test_an_upgrade_stopped_during_the_backfill_completes_when_run_again(
    postgres_server: PostgresServer, reference_schema: str
) -> None:
    url, name = new_database(postgres_server, "stopped")
    conninfo = postgres_server.conninfo(name)
    upgrade(url, "0001")
    seed_revision_1(conninfo, tasks=TASKS, users=10)
    with psycopg.connect(conninfo) as holder, psycopg.connect(conninfo, autocommit=True) as watch:
        migration = subprocess.Popen(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + KILL_DEADLINE_SECONDS
            # Once the folding trigger is there, the backfill begins: hold a row it will need.
            while not watch.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'task_fold_migration'"
            ).fetchone():
                assert migration.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)  # a poll interval, bounded by the deadline above
            holder.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (LOCKED_TASK,))
            folded = 0
            while folded < LOCKED_TASK - 1:  # every batch before the locked row's
                assert migration.poll() is None, "the migration ended before it was stopped"
                assert time.monotonic() < deadline, f"only {folded} tasks folded"
                row = watch.execute("SELECT count(*) FROM tasks WHERE title_folded <> ''")
                folded = (row.fetchone() or (0,))[0]
                time.sleep(0.05)  # a poll interval, bounded by the deadline above
            assert folded < TASKS
        finally:
            migration.send_signal(signal.SIGKILL)
            migration.wait()
        holder.rollback()
        version = watch.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == ("0001",)

    upgrade(url, "head")
    with psycopg.connect(conninfo) as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        rows = connection.execute(
            "SELECT title, description, title_folded, description_folded FROM tasks"
        ).fetchall()
    assert version == (head_revision(),)
    assert len(rows) == TASKS
    assert all(
        (title_folded, description_folded) == (fold(title), fold(description or ""))
        for title, description, title_folded, description_folded in rows
    )
    assert schema_of(postgres_server, name) == reference_schema


def test_the_migrations_fold_function_is_fold(postgres_server: PostgresServer) -> None:
    """Every character whose folding changes it, the Latin, Greek and Cyrillic blocks whole,
    and text mixing them with combining marks, folded by SQL and by Python alike."""
    changed = [chr(code) for code in range(1, 0x30000) if chr(code).casefold() != chr(code)]
    blocks = [chr(code) for code in range(1, 0x0530) if not 0xD800 <= code <= 0xDFFF]
    texts = [
        *changed,
        *blocks,
        "Été à Paris",
        "STRASSE Straße ẞ",
        "ΣΊΣΥΦΟΣ ς",
        "İstanbul ǅ ﬃ",
        "e\u0301 E\u0301\u0323",
        "ABC plain",
    ]
    _, name = new_database(postgres_server, "fold")
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as connection:
        connection.execute(create_fold_function().encode())
        rows = connection.execute(
            f"SELECT {FOLD_FUNCTION}(text) FROM unnest(%s::text[]) WITH ORDINALITY"
            " AS given (text, position) ORDER BY position",
            (texts,),
        ).fetchall()
    assert [folded for (folded,) in rows] == [fold(text) for text in texts]
