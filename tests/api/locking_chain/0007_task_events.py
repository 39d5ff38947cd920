"""The events outbox in its plain, locking form: what the online 0007 must build. The
trigger's function is the online revision's own text: what is compared here is the tables,
columns and indexes the online steps build, not the function's body.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column("event_sequence", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("tasks", sa.Column("reminded_at", TIMESTAMP, nullable=True))
    op.create_index(
        "ix_tasks_reminder_due",
        "tasks",
        ["remind_at"],
        postgresql_where=sa.text(
            "remind_at IS NOT NULL AND reminded_at IS DISTINCT FROM remind_at"
        ),
    )
    op.create_table(
        "task_event",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("task", JSONB(), nullable=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_task_event_undispatched",
        "task_event",
        ["id"],
        postgresql_where=sa.text("NOT dispatched"),
    )
    op.create_index("ix_task_event_recorded_at", "task_event", ["recorded_at"])
    op.create_table(
        "event_delivery",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "task_event_id",
            sa.BigInteger(),
            sa.ForeignKey("task_event.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("deadline", TIMESTAMP, nullable=False),
        sa.Column("leased_until", TIMESTAMP, nullable=True),
        sa.Column("leased_by", sa.String(32), nullable=True),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("task_event_id", "endpoint", name="uq_event_delivery_event_endpoint"),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name="ck_event_delivery_state"
        ),
    )
    op.create_index(
        "ix_event_delivery_due",
        "event_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_event_delivery_failed",
        "event_delivery",
        ["endpoint", "task_event_id"],
        postgresql_where=sa.text("state = 'failed'"),
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
    )
    online = importlib.import_module("migrations.versions.0007_task_events")
    for statement in online.POSTGRES_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tasks_record_event ON tasks")
    op.execute("DROP FUNCTION IF EXISTS tasks_record_event()")
    for table in ("webhook_endpoint", "event_delivery", "task_event"):
        op.drop_table(table)
    op.drop_index("ix_tasks_reminder_due", table_name="tasks")
    op.drop_column("tasks", "reminded_at")
    op.drop_column("tasks", "event_sequence")
