"""Database engines from DATABASE_URL: SQLite pragmas, PostgreSQL pool settings, URL forms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000


def _normalized(url: str) -> URL:
    parsed = make_url(url)
    backend_name = parsed.get_backend_name()
    if backend_name == "postgres":  # Heroku/Neon-style scheme
        parsed = parsed.set(drivername="postgresql")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: "
            "DATABASE_URL must be sqlite:///FILE or postgresql://..."
        )
    return parsed


def async_url(url: str) -> URL:
    """The URL with the async driver the server uses: aiosqlite or psycopg 3."""
    parsed = _normalized(url)
    driver = "sqlite+aiosqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def sync_url(url: str) -> URL:
    """The URL with the blocking driver migrations use: sqlite3 or psycopg 3."""
    parsed = _normalized(url)
    driver = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = async_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_size=4
        )
        event.listen(engine.sync_engine, "connect", set_sqlite_pragmas)
        return engine
    timeout = settings.database_timeout_seconds
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=timeout,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
    )
