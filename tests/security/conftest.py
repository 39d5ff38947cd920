"""Security suite: the figure table printed at the end of the session, and shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import start_postgres_or_skip
from tests.support.jwks import Ed25519Key, JwksEndpoint, serve_jwks
from tests.support.postgres import PostgresServer
from tests.support.security_figures import record_collected, record_report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    record_collected(items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record_report(report)


# --- shared fixtures --------------------------------------------------------------------------

ISSUER = "https://auth.todo.test"
AUDIENCE = "todo-api"


@pytest.fixture(scope="session")
def signing_key() -> Ed25519Key:
    """The key the JWKS-mode servers trust, published by `jwks_endpoint`."""
    return Ed25519Key.generate()


@pytest.fixture(scope="session")
def jwks_endpoint(signing_key: Ed25519Key) -> Iterator[JwksEndpoint]:
    with serve_jwks(signing_key) as endpoint:
        yield endpoint


def jwks_settings(database_url: str, jwks_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        better_auth_jwks_url=jwks_url,
        migrate_on_start=False,
        _env_file=None,
        **overrides,
    )


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient on a fresh app built from `settings`, its lifespan running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone: stopping it, or counting the cancellations in
    its log, concerns no other test."""
    server = start_postgres_or_skip(tmp_path / "postgres")
    try:
        yield server
    finally:
        server.destroy()
