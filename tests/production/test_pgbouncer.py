"""The production run behind PgBouncer in transaction pooling mode, as hosted PostgreSQL pools.

Four workers of ten connections each share five server connections, so consecutive
statements of one app connection run on different server sessions: nothing may rely on
a session (prepared statements, settings). The database's own time zone is set to another
one than UTC, which the sessions then have, to show the API's timestamps do not depend on it.
Without DATABASE_TRANSACTION_POOLER the server finds the pooler out (it refuses the session
settings, or loses prepared statements) and answers as if the setting were on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from backend.storage.schema import upgrade_to_head
from tests.conftest import SECRET, new_owner, token_for
from tests.production.workers import (
    PRODUCTION_ENV,
    assert_every_write_visible_through_every_worker,
)
from tests.support.live_server import LiveServer, live_server
from tests.support.load import run_mixed_load
from tests.support.pgbouncer import PgBouncer, require_pgbouncer, run_pgbouncer
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]
logger = logging.getLogger(__name__)

WORKERS = 4
USERS = 12
REQUESTS_PER_USER = 250
SERVER_CONNECTIONS = 5
SESSION_TIME_ZONE = "Asia/Kolkata"
POOLED_ENV = {**PRODUCTION_ENV, "DATABASE_TRANSACTION_POOLER": "true"}
SETTING = "DATABASE_TRANSACTION_POOLER"
# PgBouncer as configured: refusing the app's session settings (its default), or passing
# over them silently, as some hosted poolers do: then only lost prepared statements tell.
POOLER_KINDS = {"refuses-options": (), "ignores-options": ("options",)}
# How far a task's timestamp may lie outside the load's own start and end (the clocks of
# the test and the database are the machine's; a wrong time zone is hours off).
CLOCK_SLACK = timedelta(seconds=2)


@pytest.fixture(scope="module", params=sorted(POOLER_KINDS))
def pgbouncer(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode; without it: skip locally, fail under CI."""
    require_pgbouncer()
    with run_pgbouncer(
        postgres_server,
        pool_size=SERVER_CONNECTIONS,
        ignore_startup_parameters=POOLER_KINDS[request.param],
    ) as bouncer:
        yield bouncer


@pytest.fixture
def database(postgres_server: PostgresServer) -> str:
    """A migrated database (directly, as deployments migrate) whose sessions are not in UTC."""
    name = f"pooled_{uuid.uuid4().hex[:12]}"
    upgrade_to_head(postgres_server.create_database(name))
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as connection:
        connection.execute(
            sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                sql.Identifier(name), sql.Literal(SESSION_TIME_ZONE)
            )
        )
    return name


def pooled_server(
    pgbouncer: PgBouncer, database: str, tmp_path: Path, *, setting: bool = True
) -> AbstractContextManager[LiveServer]:
    """The production command, four workers, with DATABASE_URL naming the pooler."""
    return live_server(
        pgbouncer.url(database),
        SECRET,
        tmp_path / "server.log",
        workers=WORKERS,
        migrate=False,
        access_log=False,
        extra_env=POOLED_ENV if setting else PRODUCTION_ENV,
    )


@pytest.mark.parametrize("setting", [True, False], ids=["with-setting", "without-setting"])
async def test_four_workers_behind_a_transaction_pooler_serve_a_mixed_load(
    pgbouncer: PgBouncer, database: str, tmp_path: Path, setting: bool
) -> None:
    with pooled_server(pgbouncer, database, tmp_path, setting=setting) as server:
        started, load_started = time.monotonic(), datetime.now(UTC)
        ledger = await run_mixed_load(
            server.base_url, users=USERS, requests_per_user=REQUESTS_PER_USER, seed=2000
        )
        elapsed, load_finished = time.monotonic() - started, datetime.now(UTC)
        assert ledger.unexpected == []
        assert ledger.transport_errors == []
        assert ledger.requests == USERS * REQUESTS_PER_USER
        await assert_every_write_visible_through_every_worker(server, ledger)
        timestamps = [
            datetime.fromisoformat(task[name])
            for tasks in ledger.tasks.values()
            for task in tasks.values()
            for name in ("created_at", "updated_at")
        ]
        assert timestamps
        assert {moment.utcoffset() for moment in timestamps} == {timedelta(0)}
        # Labelled UTC is not enough: each is the moment it was written, in UTC.
        outside = [
            moment
            for moment in timestamps
            if not load_started - CLOCK_SLACK <= moment <= load_finished + CLOCK_SLACK
        ]
        assert outside == [], f"{len(outside)} timestamps outside the load, e.g. {outside[0]}"
        log_text = server.log_text()
    assert "Traceback" not in log_text and "unexpected error" not in log_text
    warnings = [line for line in log_text.splitlines() if f"{SETTING} is not set" in line]
    # Each worker that found the pooler out says so once; with the setting, none has to.
    assert (0 < len(warnings) <= WORKERS) if not setting else warnings == []
    logger.info(
        "behind PgBouncer (transaction mode, %d server connections, %s): %d requests from %d "
        "users in %.1f s (%.0f/s), every write read back through each of %d workers",
        SERVER_CONNECTIONS,
        "with the setting" if setting else "without the setting",
        ledger.requests,
        USERS,
        elapsed,
        ledger.requests / elapsed,
        WORKERS,
    )


async def test_idempotency_keys_hold_behind_the_pooler(
    pgbouncer: PgBouncer, database: str, tmp_path: Path
) -> None:
    """Keys need no session: 10 copies of each of 5 keyed creates at once, through four
    workers sharing five server connections, create 5 tasks; every copy is answered with
    the first response or 409."""
    owner = new_owner()
    keys = [str(uuid.uuid4()) for _ in range(5)]
    with pooled_server(pgbouncer, database, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:

            async def send(key: str) -> httpx.Response:
                headers = {**token_for(owner), "Idempotency-Key": key}
                body = {"title": f"task {key}"}
                return await client.post(f"/api/{owner}/tasks", json=body, headers=headers)

            responses = await asyncio.gather(*(send(key) for key in keys for _ in range(10)))
            listed = await client.get(
                f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
            )
        log_text = server.log_text()
    assert {response.status_code for response in responses} <= {201, 409}
    answered = {response.content for response in responses if response.status_code == 201}
    assert len(answered) == len(keys)
    assert sorted(task["title"] for task in listed.json()) == sorted(f"task {k}" for k in keys)
    assert "Traceback" not in log_text and "unexpected error" not in log_text


async def test_without_the_setting_the_first_request_is_answered_and_the_log_names_it(
    pgbouncer: PgBouncer, database: str, tmp_path: Path
) -> None:
    """A forgotten setting costs a warning, not an error: the first request already works.
    (A pooler that passes the session settings over gives itself away only when a prepared
    statement is lost, which one client's requests in a row may never meet.)"""
    owner = new_owner()
    with live_server(
        pgbouncer.url(database),
        SECRET,
        tmp_path / "server.log",
        migrate=False,
        extra_env={"DATABASE_TIMEOUT_SECONDS": "2"},
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            responses = [
                await client.post(
                    f"/api/{owner}/tasks", json={"title": f"t{n}"}, headers=token_for(owner)
                )
                for n in range(8)
            ]
            listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
        log_text = server.log_text()
    assert [response.status_code for response in responses] == [201] * 8
    assert listed.status_code == 200
    assert sorted(task["title"] for task in listed.json()) == sorted(f"t{n}" for n in range(8))
    refuses_options = "unsupported startup parameter" in pgbouncer.log_text()
    assert (f"{SETTING} is not set" in log_text) == refuses_options
    assert "Traceback" not in log_text and "unexpected error" not in log_text
