"""Online schema changes on PostgreSQL: short lock waits retried, batches, concurrent indexes.

A statement that needs a strong lock on a busy table waits at most LOCK_TIMEOUT for it, and
everything queued behind it waits no longer; when the lock is not granted in time the
statement gives up, and is tried again after a pause, up to LOCK_ATTEMPTS times. Work that
takes long (index builds, backfills) runs outside any transaction that holds such a lock.
With `alembic upgrade --sql` the same statements are written out once, in order, which is
what squawk lints (`make lint`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import psycopg
from alembic import context, op

logger = logging.getLogger("alembic.online")

# Reads and writes queued behind a waiting ALTER TABLE wait at most this long for it.
LOCK_TIMEOUT: Final = "200ms"
LOCK_ATTEMPTS: Final = 60
RETRY_PAUSE_SECONDS: Final = 0.25
# CREATE INDEX CONCURRENTLY takes no lock that reads or writes wait for, but waits for the
# transactions already running: a long one must not make it give up and start over.
CONCURRENT_LOCK_TIMEOUT: Final = "10min"
# No single statement of a migration runs longer than this (the largest is an index build).
STATEMENT_TIMEOUT: Final = "30min"


class LockNotGranted(RuntimeError):
    """A statement did not get its lock in LOCK_ATTEMPTS tries: a long transaction holds it."""


def offline() -> bool:
    return context.is_offline_mode()


def driver_connection() -> psycopg.Connection[Any]:
    """The migration's psycopg connection (in autocommit inside `autocommit_block`)."""
    connection: psycopg.Connection[Any] = op.get_bind().connection.driver_connection
    return connection


def set_timeouts() -> None:
    """The session's lock and statement timeouts, for the rest of the migration."""
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    op.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")


@contextmanager
def outside_transaction() -> Iterator[None]:
    """Commit what the migration did so far and run the block in autocommit."""
    with op.get_context().autocommit_block():
        yield


def with_lock_retries(action: Callable[[], None], what: str) -> None:
    """Run `action` until it is not stopped by the lock timeout, at most LOCK_ATTEMPTS times."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            action()
            return
        except psycopg.errors.LockNotAvailable:
            if attempt == LOCK_ATTEMPTS:
                break
            logger.warning("%s: lock not granted within %s, try %d", what, LOCK_TIMEOUT, attempt)
            time.sleep(RETRY_PAUSE_SECONDS * (1 + random.random()))  # noqa: S311 (jitter)
    raise LockNotGranted(
        f"{what}: lock not granted within {LOCK_TIMEOUT} in {LOCK_ATTEMPTS} tries; "
        "a long transaction holds the table: end it, then run `alembic upgrade head` again"
    )


def atomically(*statements: str, what: str) -> None:
    """Statements needing a strong lock, as one short transaction, retried on lock timeout.

    Must run inside `outside_transaction()`: the lock is released at the block's COMMIT.
    """
    if offline():
        op.execute("BEGIN")
        for statement in statements:
            op.execute(statement)
        op.execute("COMMIT")
        return
    connection = driver_connection()

    def run() -> None:
        with connection.transaction():
            for statement in statements:
                connection.execute(statement.encode())

    with_lock_retries(run, what)


def execute(statement: str, what: str) -> None:
    """One statement in autocommit, retried on lock timeout."""
    if offline():
        op.execute(statement)
        return
    connection = driver_connection()
    with_lock_retries(lambda: connection.execute(statement.encode()), what)


def exists(query: str, *params: object) -> bool:
    """Whether a catalog query finds a row (offline: never, so every statement is written)."""
    if offline():
        return False
    return driver_connection().execute(query.encode(), params).fetchone() is not None


def create_index_concurrently(name: str, definition: str) -> None:
    """CREATE INDEX CONCURRENTLY; a build an earlier, interrupted run left invalid is redone."""
    if exists(
        "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid"
        " WHERE relname = %s AND NOT indisvalid",
        name,
    ):
        execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", f"drop invalid index {name}")
    op.execute(f"SET lock_timeout = '{CONCURRENT_LOCK_TIMEOUT}'")
    execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}", f"index {name}")
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")


def backfill(
    select: str,
    update: Callable[[Sequence[tuple[Any, ...]]], tuple[str, Sequence[object]]],
    *,
    batch_size: int,
    what: str,
) -> int:
    """Keyset batches, each its own short transaction: `select` takes (after id, limit) and
    returns rows whose first column is the id; `update` turns a batch into one statement.
    Rows of a batch are locked only while its UPDATE runs. Returns the rows visited."""
    if offline():
        # The statement shapes, for the linter: the batches themselves need the data.
        op.execute(select.replace("%s", "0", 1).replace("%s", str(batch_size), 1))
        return 0
    connection = driver_connection()
    after, visited = 0, 0
    while rows := connection.execute(select.encode(), (after, batch_size)).fetchall():
        statement, params = update(rows)

        def run(statement: str = statement, params: Sequence[object] = params) -> None:
            connection.execute(statement.encode(), params)

        with_lock_retries(run, what)
        after, visited = rows[-1][0], visited + len(rows)
    return visited
