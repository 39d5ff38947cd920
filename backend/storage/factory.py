"""The database DATABASE_URL names: its URL read, and its dialect's Database made.

The one module that imports both dialects: the interface (database.py) never imports its
implementations, and each dialect imports the interface, so the choice is made here, in
the wiring's reach (main.py calls `connect`).
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from backend.settings import Settings
from backend.storage.database import Database
from backend.storage.postgres import PostgresDatabase
from backend.storage.sqlite import SqliteDatabase


def _normalized(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgres":  # Heroku/Neon-style scheme
        parsed = parsed.set(drivername="postgresql")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: "
            "DATABASE_URL must be sqlite:///FILE or postgresql://..."
        )
    return parsed


def sync_url(url: str) -> URL:
    """The URL with the blocking driver migrations use: sqlite3 or psycopg 3."""
    parsed = _normalized(url)
    driver = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def connect(settings: Settings) -> Database:
    """The database DATABASE_URL names (nothing is opened until the first statement)."""
    url = _normalized(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteDatabase(url.database or ":memory:")
    return PostgresDatabase(
        url,
        pool_size=settings.database_pool_size,
        timeout_seconds=settings.database_timeout_seconds,
        transaction_pooler=settings.database_transaction_pooler,
    )
