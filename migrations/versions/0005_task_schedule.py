"""The task's schedule (contract 1.4.0): due time, time zone, recurrence, reminder.

Online: every new column is nullable or has a constant default, so no row is rewritten and
no backfill runs; an existing task keeps its meaning (due on its day, in UTC, never
recurring, no reminder). The columns are added in one short lock retried on timeout; the
reminder index, which holds only tasks with a reminder (none yet), is built `CONCURRENTLY`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import online

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMINDER_INDEX = "ix_tasks_owner_remind_at"
REMINDER_PENDING = "remind_at IS NOT NULL AND NOT completed"
COLUMNS = (
    ("due_time", "varchar(5)", sa.String(5), None),
    ("time_zone", "varchar(64) DEFAULT 'UTC' NOT NULL", sa.String(64), "'UTC'"),
    ("due_at", "timestamptz", sa.DateTime(timezone=True), None),
    ("recurrence", "varchar(200)", sa.String(200), None),
    ("next_occurrence_id", "bigint", sa.BigInteger(), None),
    ("remind_before_minutes", "bigint", sa.BigInteger(), None),
    ("remind_at", "timestamptz", sa.DateTime(timezone=True), None),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, _, column_type, default in COLUMNS:
            server_default = None if default is None else sa.text(default)
            op.add_column(
                "tasks",
                sa.Column(
                    name, column_type, nullable=default is None, server_default=server_default
                ),
            )
        op.create_index(
            REMINDER_INDEX,
            "tasks",
            ["user_id", "remind_at", "id"],
            sqlite_where=sa.text(REMINDER_PENDING),
        )
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(
            *(
                f"ALTER TABLE tasks ADD COLUMN IF NOT EXISTS {name} {definition}"
                for name, definition, _, _ in COLUMNS
            ),
            what="the tasks' schedule columns",
        )
        online.create_index_concurrently(
            REMINDER_INDEX,
            f"ON tasks (user_id, remind_at, id) WHERE {REMINDER_PENDING}",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(REMINDER_INDEX, table_name="tasks")
        # In place (SQLite 3.35+): a batch copy would drop the table's triggers.
        for name, _, _, _ in reversed(COLUMNS):
            op.drop_column("tasks", name)
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {REMINDER_INDEX}", f"drop index {REMINDER_INDEX}"
        )
        online.atomically(
            *(
                f"ALTER TABLE tasks DROP COLUMN IF EXISTS {name}"
                for name, _, _, _ in reversed(COLUMNS)
            ),
            what="the tasks' schedule columns",
        )
