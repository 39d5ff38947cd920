"""tasks.version in its plain, locking form: what the online 0004 must build.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same text as the online revision's: the schema dump compares function bodies.
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
    op.add_column(
        "tasks", sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("1"))
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_BUMP:
            op.execute(statement)
