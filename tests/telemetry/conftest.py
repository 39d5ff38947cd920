"""Fixtures of the telemetry suite: an app of its own per test, with the settings it needs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET


@contextlib.asynccontextmanager
async def served(
    database_url: str, *, tracer_provider: TracerProvider | None = None, **values: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A new app (new metrics) on this database, running, and a client of it."""
    settings = Settings(
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
        **values,
    )
    app = create_app(settings, tracer_provider=tracer_provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
