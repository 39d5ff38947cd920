"""Which worker served what: request ids matched with the pids of the JSON access log."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.load import Ledger, acknowledged_fields, fields_of, listed_tasks

ACCESS_LOGGER = "backend.access"
LOG_DEADLINE_SECONDS = 10.0
MAX_CONNECTION_ATTEMPTS = 200
PRODUCTION_ENV = {"LOG_FORMAT": "json"}


def access_lines(server: LiveServer) -> list[dict[str, Any]]:
    """The JSON access lines the server has written so far."""
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == ACCESS_LOGGER:
                lines.append(entry)
    return lines


def pid_of(server: LiveServer, request_id: str) -> int:
    """The pid of the worker that logged `request_id` (polled: the line follows the answer)."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        for entry in access_lines(server):
            if entry["request_id"] == request_id:
                pid: int = entry["pid"]
                return pid
        if time.monotonic() > deadline:
            raise AssertionError(f"no access line for {request_id} within {LOG_DEADLINE_SECONDS} s")
        time.sleep(0.05)  # a poll interval, bounded by the deadline above


@asynccontextmanager
async def one_connection_per_worker(
    server: LiveServer,
) -> AsyncIterator[dict[int, httpx.AsyncClient]]:
    """A client per worker, each on one kept-alive connection that worker accepted."""
    async with AsyncExitStack() as stack:
        clients: dict[int, httpx.AsyncClient] = {}
        for _ in range(MAX_CONNECTION_ATTEMPTS):
            if len(clients) == server.workers:
                break
            client = httpx.AsyncClient(
                base_url=server.base_url, limits=httpx.Limits(max_connections=1), timeout=30
            )
            stack.push_async_callback(client.aclose)
            request_id = uuid.uuid4().hex
            response = await client.get("/livez", headers={"X-Request-ID": request_id})
            assert response.status_code == 200
            pid = pid_of(server, request_id)
            clients.setdefault(pid, client)  # a second client of a known worker just waits
        assert len(clients) == server.workers, f"reached {len(clients)} of {server.workers} workers"
        yield clients


async def assert_every_write_visible_through_every_worker(
    server: LiveServer, ledger: Ledger
) -> None:
    async with one_connection_per_worker(server) as clients:
        for pid, client in clients.items():
            for owner in ledger.tasks:
                listed = fields_of(await listed_tasks(client, owner))
                assert listed == acknowledged_fields(ledger, owner), (pid, owner)
