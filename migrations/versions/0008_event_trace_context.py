"""The write's trace in its event: `tasks.trace_context` hands each write's W3C
`traceparent` to the trigger, which copies it into `task_event.trace_context`, so that the
relay's delivery continues the trace of the write that caused it.

The task's column is a parameter of the write, not a value it keeps: the trigger moves it
into the event and leaves the row's NULL (PostgreSQL clears it in its BEFORE trigger,
SQLite's event triggers with the event counter). So a write that does not set it (a previous
release's, the relay's reminder claim) never passes on a trace an earlier write left.
`task.deleted` carries none (a DELETE sets no column), nor does `reminder.due` (the relay's
claim causes it, not a request).

Online: two nullable columns without a default (no rewrite) and the trigger's function,
replaced, in one short lock retried on timeout.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import online

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0007's triggers and the pieces they are built of: this revision changes two of them.
events = importlib.import_module("migrations.versions.0007_task_events")

# `00-<32 hex>-<16 hex>-<2 hex>`: a version 00 traceparent is 55 characters.
TRACE_CONTEXT_CHARS = 55

POSTGRES_COLUMNS = (
    f"ALTER TABLE tasks ADD COLUMN IF NOT EXISTS trace_context varchar({TRACE_CONTEXT_CHARS})",
    "ALTER TABLE task_event ADD COLUMN IF NOT EXISTS trace_context"
    f" varchar({TRACE_CONTEXT_CHARS})",
)
POSTGRES_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION tasks_record_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        kind text;
        moment timestamptz;
        carried varchar({TRACE_CONTEXT_CHARS});
    BEGIN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO task_event
                (event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at)
            VALUES ({events.POSTGRES_EVENT_ID}, 'task.deleted', OLD.user_id, OLD.id,
                    OLD.event_sequence + 1, clock_timestamp(), NULL, clock_timestamp());
            RETURN OLD;
        END IF;
        -- The write's trace goes to its event; the row never keeps one.
        carried := NEW.trace_context;
        NEW.trace_context := NULL;
        IF TG_OP = 'INSERT' THEN
            kind := 'task.created';
            moment := NEW.created_at;
        ELSIF NEW.updated_at IS DISTINCT FROM OLD.updated_at OR NEW.version <> OLD.version THEN
            kind := CASE WHEN NEW.completed AND NOT OLD.completed
                         THEN 'task.completed' ELSE 'task.updated' END;
            moment := NEW.updated_at;
        ELSIF NEW.reminded_at IS DISTINCT FROM OLD.reminded_at AND NEW.reminded_at IS NOT NULL
              AND NOT NEW.completed THEN
            kind := 'reminder.due';
            moment := NEW.reminded_at;
            carried := NULL;
        ELSE
            RETURN NEW;
        END IF;
        NEW.event_sequence := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE OLD.event_sequence + 1 END;
        INSERT INTO task_event
            (event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at,
             trace_context)
        VALUES ({events.POSTGRES_EVENT_ID}, kind, NEW.user_id, NEW.id, NEW.event_sequence,
                moment, {events.POSTGRES_SNAPSHOT}, clock_timestamp(), carried);
        RETURN NEW;
    END
    $$
    """
# 0007's function: the trigger itself names the function, and stays.
POSTGRES_FUNCTION_0007 = events.POSTGRES_TRIGGER[0]

SQLITE_COLUMNS = (
    "(event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at, trace_context)"
)
SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER tasks_event_created AFTER INSERT ON tasks BEGIN
        UPDATE tasks SET event_sequence = 1, trace_context = NULL WHERE id = NEW.id;
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({events.SQLITE_EVENT_ID}, 'task.created', NEW.user_id, NEW.id, 1,
                NEW.created_at, {events.SQLITE_SNAPSHOT}, {events.SQLITE_NOW},
                NEW.trace_context);
    END
    """,
    f"""
    CREATE TRIGGER tasks_event_changed AFTER UPDATE ON tasks
    WHEN NEW.updated_at IS NOT OLD.updated_at OR NEW.version <> OLD.version BEGIN
        UPDATE tasks SET event_sequence = OLD.event_sequence + 1, trace_context = NULL
        WHERE id = NEW.id;
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({events.SQLITE_EVENT_ID},
                CASE WHEN NEW.completed AND NOT OLD.completed
                     THEN 'task.completed' ELSE 'task.updated' END,
                NEW.user_id, NEW.id, OLD.event_sequence + 1, NEW.updated_at,
                {events.SQLITE_SNAPSHOT}, {events.SQLITE_NOW}, NEW.trace_context);
    END
    """,
)
SQLITE_TRIGGER_NAMES = ("tasks_event_created", "tasks_event_changed")
# 0007's triggers of the same names, in the same order.
SQLITE_TRIGGERS_0007 = events.SQLITE_TRIGGERS[:2]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for table in ("tasks", "task_event"):
            op.add_column(
                table, sa.Column("trace_context", sa.String(TRACE_CONTEXT_CHARS), nullable=True)
            )
        _replace_sqlite_triggers(SQLITE_TRIGGERS)
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(*POSTGRES_COLUMNS, POSTGRES_FUNCTION, what="the events' trace context")


def _replace_sqlite_triggers(statements: Sequence[str]) -> None:
    for name in SQLITE_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _replace_sqlite_triggers(SQLITE_TRIGGERS_0007)
        op.drop_column("task_event", "trace_context")
        op.drop_column("tasks", "trace_context")
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(
            POSTGRES_FUNCTION_0007,
            "ALTER TABLE task_event DROP COLUMN IF EXISTS trace_context",
            "ALTER TABLE tasks DROP COLUMN IF EXISTS trace_context",
            what="the events' trace context",
        )
