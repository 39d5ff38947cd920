"""Brings a database's schema to the newest migration (Alembic, from migrations/)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    """The project's Alembic configuration, aimed at this URL."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()
    if head is None:
        raise RuntimeError("migrations/ holds no revision")
    return head


def upgrade_to_head(database_url: str) -> None:
    """`alembic upgrade head` for this URL (blocking: run it in a thread from async code)."""
    command.upgrade(alembic_config(database_url), "head")
