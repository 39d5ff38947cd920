"""The production command: uvicorn with four workers on PostgreSQL, under load and on SIGTERM.

Real processes on 127.0.0.1: several users' mixed requests spread over the workers, every
acknowledged write then read back through each worker; and a SIGTERM in the middle of the
load, which must let the requests in flight finish and lose no acknowledged write.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import SECRET
from tests.production.workers import (
    PRODUCTION_ENV,
    access_lines,
    assert_every_write_visible_through_every_worker,
)
from tests.support.live_server import live_server
from tests.support.load import Ledger, acknowledged_fields, run_mixed_load
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]
logger = logging.getLogger(__name__)

WORKERS = 4
USERS = 12
REQUESTS_PER_USER = 250  # 3,000 requests
SIGTERM_AFTER = 1000  # acknowledged requests before the signal
EXIT_TIMEOUT_SECONDS = 30.0
SUPERVISOR_LINES = ("Uvicorn running on", "Started parent process")


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"production_{uuid.uuid4().hex[:12]}")


def assert_clean_log(log_text: str) -> None:
    assert "unexpected error" not in log_text
    assert "Traceback" not in log_text


async def test_four_workers_serve_a_mixed_load_and_each_sees_every_write(
    database_url: str, tmp_path: Path
) -> None:
    with live_server(
        database_url,
        SECRET,
        tmp_path / "server.log",
        workers=WORKERS,
        access_log=False,
        extra_env=PRODUCTION_ENV,
    ) as server:
        started = time.monotonic()
        ledger = await run_mixed_load(
            server.base_url, users=USERS, requests_per_user=REQUESTS_PER_USER
        )
        elapsed = time.monotonic() - started
        assert ledger.unexpected == []
        assert ledger.transport_errors == []
        assert ledger.requests == USERS * REQUESTS_PER_USER
        serving = {entry["pid"] for entry in access_lines(server)}
        assert len(serving) >= 2, "the load did not reach several workers"
        await assert_every_write_visible_through_every_worker(server, ledger)
        log_text = server.log_text()
    assert_clean_log(log_text)
    # LOG_FORMAT=json: every line is JSON but the two uvicorn writes before loading the app.
    text_lines = [line for line in log_text.splitlines() if not line.startswith("{")]
    assert len(text_lines) == len(SUPERVISOR_LINES), text_lines
    assert all(any(words in line for words in SUPERVISOR_LINES) for line in text_lines)
    logger.info(
        "%d workers: %d requests from %d users in %.1f s (%.0f/s), %d workers served them, "
        "%d tasks checked through each worker",
        WORKERS,
        ledger.requests,
        USERS,
        elapsed,
        ledger.requests / elapsed,
        len(serving),
        sum(len(tasks) for tasks in ledger.tasks.values()),
    )


def stored_tasks(conninfo: str) -> dict[str, dict[int, dict[str, Any]]]:
    """owner -> task id -> fields, read from PostgreSQL directly once the server is gone."""
    stored: dict[str, dict[int, dict[str, Any]]] = {}
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            "SELECT id, user_id, title, description, due_date, completed FROM tasks"
        ).fetchall()
    for task_id, owner, title, description, due_date, completed in rows:
        stored.setdefault(owner, {})[task_id] = {
            "title": title,
            "description": description,
            "due_date": None if due_date is None else due_date.isoformat(),
            "completed": completed,
        }
    return stored


async def test_sigterm_under_load_finishes_the_requests_in_flight_and_loses_no_write(
    database_url: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    with live_server(
        database_url,
        SECRET,
        tmp_path / "server.log",
        workers=WORKERS,
        access_log=False,
        extra_env=PRODUCTION_ENV,
    ) as server:

        def terminate_once(ledger: Ledger) -> None:
            if ledger.stop_sent_at is None and ledger.requests >= SIGTERM_AFTER:
                # As an orchestrator does: to uvicorn's main process, which tells the workers.
                os.kill(server.pid, signal.SIGTERM)
                ledger.stop_sent_at = time.monotonic()

        ledger = await run_mixed_load(
            server.base_url,
            users=USERS,
            requests_per_user=REQUESTS_PER_USER * 4,  # more than it will get to send
            seed=1000,
            after_each=terminate_once,
        )
        exit_code = server.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        log_text = server.log_text()
    stop = ledger.stop_sent_at
    assert stop is not None, "the load ended before the signal was sent"
    assert exit_code == 0, log_text[-2000:]
    # Every answer, including those to requests in flight at the signal, is a success.
    assert ledger.unexpected == []
    assert ledger.answered_after_stop > 0, "no request was in flight at the signal"
    # Requests refused for good (connection closed or refused) all came after the signal.
    assert all(when >= stop for when, _ in ledger.transport_errors), ledger.transport_errors
    assert_clean_log(log_text)
    database = database_url.rsplit("/", 1)[1]
    stored = stored_tasks(postgres_server.conninfo(database))
    lost = {
        owner: sorted(
            task_id
            for task_id, fields in acknowledged_fields(ledger, owner).items()
            if stored.get(owner, {}).get(task_id) != fields
        )
        for owner in ledger.tasks
    }
    assert all(not task_ids for task_ids in lost.values()), lost
    logger.info(
        "SIGTERM after %d answers: %d requests answered in all, %d of them in flight at the "
        "signal; %d users cut off; exit code %d; %d acknowledged tasks all stored",
        SIGTERM_AFTER,
        ledger.requests,
        ledger.answered_after_stop,
        len(ledger.transport_errors),
        exit_code,
        sum(len(acknowledged_fields(ledger, owner)) for owner in ledger.tasks),
    )
