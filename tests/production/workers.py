"""Which worker served what: request ids matched with the pids of the JSON access log."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from tests.support.live_server import ROOT, LiveServer
from tests.support.load import Ledger, acknowledged_fields, fields_of, listed_tasks

ACCESS_LOGGER = "backend.access"
LOG_DEADLINE_SECONDS = 10.0
# The workers share one listening socket and the kernel does not share its connections out
# evenly: on an idle 2-CPU machine one of four workers took 3 of 200 new connections, and
# was first reached at the 173rd. The bound makes missing a live worker improbable (under
# 1e-12 at a 1 % share), and the batches keep the attempts cheap.
MAX_CONNECTION_ATTEMPTS = 4000
CONNECTIONS_PER_BATCH = 50
PRODUCTION_ENV = {"LOG_FORMAT": "json"}
JSON_LOG_CONFIG = ROOT / "uvicorn_json_logging.json"
# The docs' command in full: its `--log-config` as the variable uvicorn's command line reads.
DOCUMENTED_ENV = {**PRODUCTION_ENV, "UVICORN_LOG_CONFIG": str(JSON_LOG_CONFIG)}
# Made once and shared: httpx builds one per client otherwise, ~35 ms each.
TLS_CONTEXT = ssl.create_default_context()


def access_lines(server: LiveServer) -> list[dict[str, Any]]:
    """The JSON access lines the server has written so far."""
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == ACCESS_LOGGER:
                lines.append(entry)
    return lines


def json_and_text_lines(log_text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """A log's JSON objects, and the lines that are not one."""
    entries: list[dict[str, Any]] = []
    text_lines: list[str] = []
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = None
        if isinstance(entry, dict):
            entries.append(entry)
        else:
            text_lines.append(line)
    return entries, text_lines


def pids_of(server: LiveServer, request_ids: list[str]) -> dict[str, int]:
    """The pid of the worker that logged each request id (polled: a line follows its answer)."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        logged = {entry["request_id"]: entry["pid"] for entry in access_lines(server)}
        missing = [request_id for request_id in request_ids if request_id not in logged]
        if not missing:
            return {request_id: logged[request_id] for request_id in request_ids}
        if time.monotonic() > deadline:
            raise AssertionError(f"no access line for {missing} within {LOG_DEADLINE_SECONDS} s")
        time.sleep(0.05)  # a poll interval, bounded by the deadline above


@asynccontextmanager
async def one_connection_per_worker(
    server: LiveServer,
) -> AsyncIterator[dict[int, httpx.AsyncClient]]:
    """A client per worker, each on one kept-alive connection that worker accepted."""
    async with AsyncExitStack() as stack:
        clients: dict[int, httpx.AsyncClient] = {}
        attempts = 0
        while len(clients) < server.workers and attempts < MAX_CONNECTION_ATTEMPTS:
            batch: dict[str, httpx.AsyncClient] = {}
            for _ in range(CONNECTIONS_PER_BATCH):
                client = httpx.AsyncClient(
                    base_url=server.base_url,
                    limits=httpx.Limits(max_connections=1),
                    timeout=30,
                    verify=TLS_CONTEXT,
                )
                stack.push_async_callback(client.aclose)  # closing twice is harmless
                request_id = uuid.uuid4().hex
                response = await client.get("/livez", headers={"X-Request-ID": request_id})
                assert response.status_code == 200
                batch[request_id] = client
            attempts += len(batch)
            for request_id, pid in pids_of(server, list(batch)).items():
                client = batch[request_id]
                if pid in clients:
                    await client.aclose()  # a second connection to a known worker
                else:
                    clients[pid] = client
        assert len(clients) == server.workers, (
            f"reached {len(clients)} of {server.workers} workers in {attempts} connections"
        )
        yield clients


async def assert_every_write_visible_through_every_worker(
    server: LiveServer, ledger: Ledger
) -> None:
    async with one_connection_per_worker(server) as clients:
        for pid, client in clients.items():
            for owner in ledger.tasks:
                listed = fields_of(await listed_tasks(client, owner))
                assert listed == acknowledged_fields(ledger, owner), (pid, owner)
