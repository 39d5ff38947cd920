"""`python -m bench.migration_timing`: migration 0002 on a PostgreSQL table of many tasks.

Seeds N tasks (default 1,000,000) of one user at revision 0001, then runs
`alembic upgrade head` in a subprocess while this process reads the user's first page in
a loop. Prints how long the migration took and the slowest read during it: a read that
waits about as long as the migration was blocked by its ACCESS EXCLUSIVE lock.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.database import EPOCH, FIRST_DUE_DATE
from tests.support.postgres import start_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
USER = "migration-user"
FIRST_PAGE = (
    "SELECT id, title FROM tasks WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT 20"
)


def alembic(url: str, revision: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", "upgrade", revision],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def seed_revision_1(conninfo: str, count: int) -> None:
    """Tasks as the 1.0 server stored them: 0001's columns only."""
    buffer = io.StringIO()
    for number in range(count):
        created = (EPOCH + timedelta(seconds=number)).isoformat()
        due = (FIRST_DUE_DATE + timedelta(days=number % 400)).isoformat()
        description = "Seeded for the migration timing" if number % 2 == 0 else r"\N"
        buffer.write(
            f"{USER}\tTask {number:07d} Été\t{description}\t{'t' if number % 4 == 0 else 'f'}"
            f"\t{due if number % 3 == 0 else chr(92) + 'N'}\t{created}\t{created}\n"
        )
    columns = "user_id, title, description, completed, due_date, created_at, updated_at"
    with psycopg.connect(conninfo) as connection:
        with connection.cursor().copy(f"COPY tasks ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE tasks")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migration_timing", description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="migration-") as scratch:
        server = start_postgres(Path(scratch) / "postgres")
        try:
            url = server.create_database("migration")
            conninfo = server.conninfo("migration")
            if alembic(url, "0001").wait() != 0:
                raise SystemExit("alembic upgrade 0001 failed")
            started = time.perf_counter()
            seed_revision_1(conninfo, arguments.tasks)
            print(f"== {arguments.tasks:,} tasks at 0001 in {time.perf_counter() - started:.1f} s")
            with psycopg.connect(conninfo, autocommit=True) as reader:
                migration = alembic(url, "head")
                started = time.perf_counter()
                slowest, reads = 0.0, 0
                while migration.poll() is None:
                    before = time.perf_counter()
                    reader.execute(FIRST_PAGE, (USER,)).fetchall()
                    slowest = max(slowest, time.perf_counter() - before)
                    reads += 1
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
                output = migration.stdout.read() if migration.stdout else ""
            if migration.returncode != 0:
                raise SystemExit(f"alembic upgrade head failed:\n{output}")
            print(f"== alembic upgrade 0001 -> head: {elapsed:.1f} s")
            print(f"== {reads} first-page reads during it; the slowest took {slowest:.1f} s")
        finally:
            server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
