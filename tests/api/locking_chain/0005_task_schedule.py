"""The task's schedule in its plain, locking form: what the online 0005 must build.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("due_time", sa.String(5), nullable=True))
    op.add_column(
        "tasks",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=sa.text("'UTC'")),
    )
    op.add_column("tasks", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("recurrence", sa.String(200), nullable=True))
    op.add_column("tasks", sa.Column("next_occurrence_id", sa.BigInteger(), nullable=True))
    op.add_column("tasks", sa.Column("remind_before_minutes", sa.BigInteger(), nullable=True))
    op.add_column("tasks", sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_tasks_owner_remind_at",
        "tasks",
        ["user_id", "remind_at", "id"],
        postgresql_where=sa.text("remind_at IS NOT NULL AND NOT completed"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_owner_remind_at", table_name="tasks")
    for name in (
        *("remind_at", "remind_before_minutes", "next_occurrence_id", "recurrence"),
        *("due_at", "time_zone", "due_time"),
    ):
        op.drop_column("tasks", name)
