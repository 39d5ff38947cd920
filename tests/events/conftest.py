"""Fixtures of the events suite: a database of the module's own (claims of due reminders
take every owner's), the outbox and relay over it, and receivers."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import standardwebhooks
from opentelemetry.trace import Tracer
from sqlalchemy import text

from backend.events.relay import Relay
from backend.queries.store import TaskStore
from backend.settings import Settings
from backend.storage.database import Database
from backend.storage.factory import connect
from backend.storage.schema import upgrade_to_head
from tests.conftest import DATABASES, SECRET

RECEIVER_URL = "http://receiver.test/hooks"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()


@pytest.fixture(scope="module", params=DATABASES, ids=DATABASES)
def events_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database of this module's own, on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('events') / 'todo.db'}"
    else:
        postgres = request.getfixturevalue("postgres_server")
        url = postgres.create_database(f"events_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    return url


def events_settings(url: str, **values: Any) -> Settings:
    return Settings(
        database_url=url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        webhook_relay=False,
        _env_file=None,
        **values,
    )


@pytest.fixture
async def database(events_url: str) -> AsyncIterator[Database]:
    connected = connect(events_settings(events_url))
    try:
        yield connected
    finally:
        await connected.close()


@pytest.fixture
def store(database: Database) -> TaskStore:
    return TaskStore(database)


class Receiver:
    """An httpx transport that answers deliveries as `answer` says, verifying each signature
    with the Standard Webhooks library and keeping what it accepted."""

    def __init__(self, secret: str, answer: Callable[[int], httpx.Response] | None = None):
        self.verifier = standardwebhooks.Webhook(secret)
        self.answer = answer or (lambda _attempt: httpx.Response(204))
        self.attempts: list[httpx.Request] = []
        self.attempted_at: list[float] = []  # time.monotonic() of each attempt's arrival
        self.accepted: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request)
        self.attempted_at.append(time.monotonic())
        payload: dict[str, Any] = self.verifier.verify(request.content, dict(request.headers))
        response = self.answer(len(self.attempts))
        if 200 <= response.status_code < 300:
            self.accepted.append(payload)
        return response

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def endpoint(name: str, secrets: list[str], **values: Any) -> dict[str, Any]:
    return {"name": name, "url": RECEIVER_URL, "secrets": secrets, **values}


async def recorded(database: Database, owner: str) -> list[dict[str, Any]]:
    """The owner's events in the outbox, in the order they were recorded."""
    statement = database.compile(
        text(
            "SELECT event_id, type, task_id, sequence, occurred_at, task FROM task_event"
            " WHERE user_id = :owner ORDER BY id"
        )
    )
    return await database.fetch(statement, {"owner": owner})


DEADLINE_SECONDS = 20.0


def relay_for(
    url: str, secrets: list[str], tracer: Tracer | None = None, **values: Any
) -> tuple[Relay, str]:
    """A relay (its own connection, the tracer's spans) with one endpoint of a new name, and
    that name; retries waits of 10-50 ms unless `values` say otherwise."""
    name = f"e{uuid.uuid4().hex[:12]}"
    settings = events_settings(
        url,
        webhook_endpoints=[endpoint(name, secrets)],
        **{"webhook_retry_base_seconds": 0.01, "webhook_retry_max_seconds": 0.05, **values},
    )
    return Relay(connect(settings), settings, tracer=tracer), name


async def run_until(relay: Relay, client: httpx.AsyncClient, done: Callable[[], bool]) -> None:
    """Rounds of the relay until `done`, within DEADLINE_SECONDS (a retry waits a while)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        await relay.tick(client)
        await relay.drain()
        if done():
            return
        await asyncio.sleep(0.01)  # a poll interval, bounded by the deadline above
    raise AssertionError(f"the relay did not get there within {DEADLINE_SECONDS:g} s")
