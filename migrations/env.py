"""Alembic environment: migrates the database named by DATABASE_URL (or the caller's URL)."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from backend.db import set_sqlite_pragmas, sync_url
from backend.models import SQLModel
from backend.settings import DEFAULT_DATABASE_URL

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    return str(url or DEFAULT_DATABASE_URL)


def run_offline() -> None:
    context.configure(
        url=sync_url(database_url()).render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    url = sync_url(database_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.get_backend_name() == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", set_sqlite_pragmas)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.get_backend_name() == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
