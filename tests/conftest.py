"""Shared fixtures: one behavioural suite, parametrized over SQLite and a real PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.auth.tokens import mint_token
from backend.main import create_app
from backend.settings import Settings
from backend.storage.schema import upgrade_to_head
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres
from tests.support.skips import running_in_ci, skip_or_fail, undocumented_ci_skip

SECRET = "test-secret-for-the-suite-0123456789abcdef"
DATABASES = ("sqlite", "postgres")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI=true a skip docs/TESTING.md does not list is a failure, whoever skipped."""
    report = yield
    reason = undocumented_ci_skip(report)
    if reason is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"CI must run this test, but it skipped ({reason}); docs/TESTING.md lists "
            "the only reasons CI may skip for"
        )
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if running_in_ci():
        skipped = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(
            f"CI=true: {skipped} test(s) skipped, each for a reason docs/TESTING.md lists"
        )


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def start_postgres_or_skip(base_dir: Path) -> PostgresServer:
    """A fresh PostgreSQL server; without the binaries: skip locally, fail under CI."""
    try:
        return start_postgres(base_dir)
    except PostgresUnavailable as error:
        skip_or_fail(f"the PostgreSQL tests need PostgreSQL: {error}")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server for the whole session (initdb + pg_ctl as the postgres user)."""
    server = start_postgres_or_skip(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'todo.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database("todo_tests")
    upgrade_to_head(url)
    return url


@pytest.fixture(params=DATABASES, ids=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each behavioural test runs once per database; tests share a database, not owners."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def unreachable_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose PostgreSQL is a port nothing listens on (1 s timeouts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]  # closed again with the probe socket
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{port}/todo",
        better_auth_secret=SECRET,
        database_timeout_seconds=1,
        _env_file=None,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def new_owner() -> str:
    """A user id no other test uses: tests share databases, never owners."""
    return f"user-{uuid.uuid4().hex}"


def token_for(owner: str, **claims: Any) -> dict[str, str]:
    """Authorization headers for `owner`, signed with the suite's secret."""
    return {"Authorization": f"Bearer {mint_token(owner, SECRET.encode(), **claims)}"}


async def make_task(client: httpx.AsyncClient, owner: str, **fields: Any) -> dict[str, Any]:
    """Create a task through the API and return its body."""
    body = {"title": "a task", **fields}
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
def owner() -> str:
    return new_owner()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
