"""tasks.version: the row version behind each task's ETag (contract 1.3.0).

Online: a column with a constant default is added without rewriting the table (PostgreSQL
11 and later), under a short lock retried on timeout; existing tasks start at version 1.
On PostgreSQL a trigger also bumps the version of any update that moves `updated_at`
without bumping it itself: the previous release's servers, which run beside this one
during a rolling release, do not know the column, and their writes must still change the
tag a client of this release holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import online

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_BUMP = (
    """
    CREATE OR REPLACE FUNCTION tasks_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER tasks_bump_version BEFORE UPDATE ON tasks
    FOR EACH ROW WHEN (
        NEW.version = OLD.version AND NEW.updated_at IS DISTINCT FROM OLD.updated_at
    ) EXECUTE FUNCTION tasks_bump_version()
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.add_column(
            "tasks",
            sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("1")),
        )
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(
            "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS version bigint DEFAULT 1 NOT NULL",
            *POSTGRES_BUMP,
            what="tasks.version and its trigger",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # In place (SQLite 3.35+): a batch copy would drop the table's triggers and, through
        # the cascade, the tags of every task.
        op.drop_column("tasks", "version")
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(
            "DROP TRIGGER IF EXISTS tasks_bump_version ON tasks",
            "DROP FUNCTION IF EXISTS tasks_bump_version()",
            "ALTER TABLE tasks DROP COLUMN IF EXISTS version",
            what="tasks.version and its trigger",
        )
