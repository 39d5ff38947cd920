"""The events' trace context in its plain, locking form: what the online 0008 must build.
The trigger's function is the online revision's own text.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

online = importlib.import_module("migrations.versions.0008_event_trace_context")


def upgrade() -> None:
    for table in ("tasks", "task_event"):
        op.add_column(
            table, sa.Column("trace_context", sa.String(online.TRACE_CONTEXT_CHARS), nullable=True)
        )
    op.execute(online.POSTGRES_FUNCTION)


def downgrade() -> None:
    op.execute(online.POSTGRES_FUNCTION_0007)
    op.drop_column("task_event", "trace_context")
    op.drop_column("tasks", "trace_context")
