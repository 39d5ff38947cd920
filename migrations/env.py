"""Alembic environment: migrates the database named by DATABASE_URL (or the caller's URL)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Connection

from backend.settings import DEFAULT_DATABASE_URL
from backend.storage.factory import sync_url
from backend.storage.models import SQLModel, is_search_index
from backend.storage.sqlite import set_sqlite_pragmas

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata

# Any constant works: it names "the migration" among this database's advisory locks.
POSTGRES_MIGRATION_LOCK = 7_146_550_001


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    return str(url or DEFAULT_DATABASE_URL)


def include_object(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Autogenerate leaves the per-database search index (GIN or FTS5) to the migrations."""
    return not (type_ in ("table", "index") and is_search_index(name))


def run_offline() -> None:
    context.configure(
        url=sync_url(database_url()).render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def one_migrator_per_sqlite_file(url: URL) -> Iterator[None]:
    """Each worker of `uvicorn --workers N` migrates SQLite on start; without this lock two of
    them can both find no alembic_version table and the second dies creating it."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with Path(f"{database}-lock").open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
        yield


@contextmanager
def one_migrator_per_postgres_database(connection: Connection) -> Iterator[None]:
    """Same race on PostgreSQL (MIGRATE_ON_START=true with several workers). A session lock,
    held across the commits of online migrations, and taken before the versions are read."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_MIGRATION_LOCK}
        )
        connection.commit()


def run_online() -> None:
    url = sync_url(database_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.get_backend_name() == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", set_sqlite_pragmas)
    with one_migrator_per_sqlite_file(url), engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.get_backend_name() == "sqlite",
            include_object=include_object,
            # Each revision is recorded as soon as it is done: an upgrade stopped later
            # resumes at the next one.
            transaction_per_migration=True,
        )
        with one_migrator_per_postgres_database(connection), context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
