"""Metrics of four workers, exact: N requests, N counted, whichever worker answers the scrape;
and a worker killed and replaced keeps its counts and leaves no gauge behind."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.production.workers import PRODUCTION_ENV, access_lines
from tests.support.live_server import LiveServer, live_server
from tests.support.load import run_mixed_load
from tests.support.postgres import PostgresServer
from tests.telemetry.scrape import Scrape, scrape_sync

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]

WORKERS = 4
POOL_SIZE = 3
USERS = 8
REQUESTS_PER_USER = 100
SCRAPES = 12
REPLACED_WITHIN_SECONDS = 30.0


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"metrics_{uuid.uuid4().hex[:12]}")


def api_requests(page: Scrape) -> float:
    return sum(
        value
        for (name, labels), value in page.samples.items()
        if name == "http_server_request_duration_seconds_count"
        and dict(labels)["http_route"].startswith("/api/")
    )


def scrapers(server: LiveServer) -> set[int]:
    return {line["pid"] for line in access_lines(server) if line["route"] == "/metrics"}


def workers_of(server: LiveServer) -> set[int]:
    """The supervisor's worker processes, as Linux lists its children (but multiprocessing's
    resource tracker)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return {
        int(pid)
        for pid in children
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


def scraped_by_new_worker(server: LiveServer, known: set[int]) -> Scrape:
    """Scrapes until one is answered by a worker not in `known` (the replacement wrote its
    pool's gauges before it answered anything)."""
    deadline = time.monotonic() + REPLACED_WITHIN_SECONDS
    while time.monotonic() < deadline:
        page = scrape_sync(server.base_url)
        if scrapers(server) - known:
            return page
        time.sleep(0.05)  # a poll interval, bounded by the deadline above
    raise AssertionError(f"no new worker answered within {REPLACED_WITHIN_SECONDS:g} s")


def settled_in_flight(server: LiveServer) -> float:
    """The requests in flight a scrape reports once every worker has written its count
    since its last scrape (a dead worker's count would stay: its files were kept)."""
    deadline = time.monotonic() + REPLACED_WITHIN_SECONDS
    while True:
        in_flight = scrape_sync(server.base_url).total("http_server_active_requests")
        if in_flight == 1 or time.monotonic() > deadline:
            return in_flight
        time.sleep(0.5)  # a poll interval, bounded by the deadline above


async def test_four_workers_count_every_request_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    with live_server(
        database_url,
        SECRET,
        tmp_path / "server.log",
        workers=WORKERS,
        extra_env={**PRODUCTION_ENV, "DATABASE_POOL_SIZE": str(POOL_SIZE)},
    ) as server:
        ledger = await run_mixed_load(
            server.base_url, users=USERS, requests_per_user=REQUESTS_PER_USER
        )
        assert ledger.unexpected == [] and ledger.transport_errors == []
        sent = ledger.requests
        assert sent == USERS * REQUESTS_PER_USER
        pages = [scrape_sync(server.base_url) for _ in range(SCRAPES)]
        answered_by = scrapers(server)
        assert [api_requests(page) for page in pages] == [sent] * SCRAPES
        assert len(answered_by) >= 2, "every scrape reached the same worker"
        # Every worker's pool, summed: its maximum, whichever worker answers.
        assert {page.value("db_client_connection_max") for page in pages} == {WORKERS * POOL_SIZE}

        before = workers_of(server)
        assert len(before) == WORKERS
        os.kill(sorted(answered_by)[0], signal.SIGKILL)
        after = scraped_by_new_worker(server, before)
        assert api_requests(after) == sent  # the dead worker's counts are kept
        # Its pool is not: the replacement's stands in its place.
        assert after.value("db_client_connection_max") == WORKERS * POOL_SIZE
        # Each worker writes its requests in flight every second: soon only the scrape's own.
        assert settled_in_flight(server) == 1
