"""Create the tasks table and the indexes that serve the list queries.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.storage.models import TaskId, TitleType, UTCDateTime
from migrations import online

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        online.set_timeouts()
    op.create_table(
        "tasks",
        sa.Column("id", TaskId, primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("title", TitleType, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        # Never reuse the id of a deleted task (PostgreSQL's identity never does either).
        sqlite_autoincrement=True,
    )
    op.create_index("ix_tasks_owner_created", "tasks", ["user_id", "created_at", "id"])
    op.create_index("ix_tasks_owner_title", "tasks", ["user_id", "title", "id"])
    op.create_index("ix_tasks_owner_due_date", "tasks", ["user_id", "due_date", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_owner_due_date", table_name="tasks")
    op.drop_index("ix_tasks_owner_title", table_name="tasks")
    op.drop_index("ix_tasks_owner_created", table_name="tasks")
    op.drop_table("tasks")
