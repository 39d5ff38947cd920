"""A rolling deploy's migration: `alembic upgrade head` on 300,000 tasks at release 1.0.0's
schema while 1.0.0's own reads and writes keep running. None fails, none waits more than
1 s for a lock (each runs with lock_timeout = 1 s), and every acknowledged write is there
afterwards with its data."""

from __future__ import annotations

import logging
import uuid

import psycopg
import pytest
from alembic import command

from backend.storage.schema import alembic_config, head_revision
from backend.tasks.search import fold
from tests.support.postgres import PostgresServer
from tests.support.previous_release import seed_revision_1, stored_rows, upgrade_under_load

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]
logger = logging.getLogger(__name__)

TASKS = 300_000
USERS = 1_000
# The bound on any read or write of the previous release while a migration runs, on the
# locks it takes: a statement waiting longer for one fails (lock_timeout), and fails the test.
LOCK_WAIT_SECONDS = 1.0
# The same bound measured on the clock, with room for what the test cannot tell from a lock:
# on a shared 2-core machine a list that waited no lock has taken 1.06 s.
LONGEST_WAIT_SECONDS = 3.0
# The folding trigger is revision 0002's last step: a row the previous release writes after
# it is not folded (docs/OPERATIONS.md). Rows written this long before it went are.
FOLD_TRIGGER = "task_fold_migration"
FOLDED_BEFORE_EXIT_SECONDS = 2.0


async def test_the_previous_release_keeps_serving_while_the_migrations_run(
    postgres_server: PostgresServer,
) -> None:
    name = f"online_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    conninfo = postgres_server.conninfo(name)
    command.upgrade(alembic_config(url), "0001")
    seed_revision_1(conninfo, tasks=TASKS, users=USERS)

    result = await upgrade_under_load(
        url,
        conninfo,
        tasks=TASKS,
        users=USERS,
        lock_wait=LOCK_WAIT_SECONDS,
        watch_trigger=FOLD_TRIGGER,
    )
    traffic = result.traffic
    logger.info(
        "upgrade 0001 -> head of %d tasks: %.1f s; %d statements of the previous release "
        "meanwhile, the longest waited %.3f s (%s, %.1f s into the upgrade)",
        TASKS,
        result.seconds,
        traffic.statements,
        traffic.longest_wait,
        traffic.longest_statement,
        traffic.longest_started_at - result.started_at,
    )
    assert result.returncode == 0, result.output
    assert traffic.failures == []
    assert traffic.statements > 100, "the previous release barely ran during the upgrade"
    longest_wait = traffic.longest_wait  # named, so a failure does not print every write
    assert longest_wait <= LONGEST_WAIT_SECONDS, f"a {traffic.longest_statement} waited"
    assert traffic.acknowledged, "no write was acknowledged during the upgrade"
    assert stored_rows(conninfo, list(traffic.acknowledged)) == traffic.acknowledged

    with psycopg.connect(conninfo) as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        rows = connection.execute(
            "SELECT id, title, description, title_folded, description_folded FROM tasks"
        ).fetchall()
    assert version == (head_revision(),)
    assert len(rows) == TASKS + sum(1 for task_id in traffic.acknowledged if task_id > TASKS)
    # Rows seeded before, and written by the previous release while 0002 ran: folded.
    assert result.trigger_last_seen > result.started_at, "the folding trigger was never seen"
    folded_by = result.trigger_last_seen - FOLDED_BEFORE_EXIT_SECONDS
    unfolded = [
        task_id
        for task_id, title, description, title_folded, description_folded in rows
        if (title_folded, description_folded) != (fold(title), fold(description or ""))
        and traffic.acknowledged_at.get(task_id, 0.0) < folded_by
    ]
    assert unfolded == []
    assert sum(1 for moment in traffic.acknowledged_at.values() if moment < folded_by) > 100
