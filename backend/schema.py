"""Brings a database's schema to the newest migration (Alembic, from migrations/)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def upgrade_to_head(database_url: str) -> None:
    """`alembic upgrade head` for this URL (blocking: run it in a thread from async code)."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
