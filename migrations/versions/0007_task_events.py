"""The events outbox (contract 1.6.0): task_event, event_delivery, webhook_endpoint, and the
triggers that write an event in the transaction of each task change.

The tasks table's triggers write the outbox, not the server's statements: a change and its
event commit together or not at all, whatever process writes the row. During a rolling
release the previous release's servers, which know nothing of events, write tasks beside
this one's, and their changes get their events too. `tasks.event_sequence` is each task's
event counter (locked with the row, so without gaps); `tasks.reminded_at` is the reminder
moment the scheduler claimed. Reminders whose moment passed before this revision are marked
claimed first, so that upgrading sends no reminder for the past.

Online: two columns with constant defaults (no rewrite) and three new tables in one short
lock retried on timeout; the claim of past reminders in keyset batches; the scheduler's
index `CONCURRENTLY`; then the triggers, with a last catch-up of the reminders that passed
meanwhile, in one short lock.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.storage.models import UTCDateTime
from migrations import online

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMINDER_DUE_INDEX = "ix_tasks_reminder_due"
# The task as the events carry it: generated.models.Task's fields, as the row stores them.
TASK_FIELDS = (
    *("id", "user_id", "title", "description", "completed", "due_date", "priority", "tags"),
    *("created_at", "updated_at", "due_time", "time_zone", "due_at", "recurrence"),
    *("next_occurrence_id", "remind_before_minutes", "remind_at"),
)
BACKFILL_BATCH = 1000

POSTGRES_TABLES = (
    "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS event_sequence bigint DEFAULT 0 NOT NULL",
    "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS reminded_at timestamptz",
    """
    CREATE TABLE IF NOT EXISTS task_event (
        id bigserial PRIMARY KEY,
        event_id varchar(64) NOT NULL UNIQUE,
        type varchar(32) NOT NULL,
        user_id varchar(128) NOT NULL,
        task_id bigint NOT NULL,
        sequence bigint NOT NULL,
        occurred_at timestamptz NOT NULL,
        task jsonb,
        recorded_at timestamptz NOT NULL,
        dispatched boolean DEFAULT false NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS ix_task_event_undispatched ON task_event (id) WHERE NOT dispatched",
    "CREATE INDEX IF NOT EXISTS ix_task_event_recorded_at ON task_event (recorded_at)",
    """
    CREATE TABLE IF NOT EXISTS event_delivery (
        id bigserial PRIMARY KEY,
        task_event_id bigint NOT NULL REFERENCES task_event (id) ON DELETE CASCADE,
        endpoint varchar(64) NOT NULL,
        state varchar(16) NOT NULL,
        attempts bigint DEFAULT 0 NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        deadline timestamptz NOT NULL,
        leased_until timestamptz,
        leased_by varchar(32),
        last_status smallint,
        last_error varchar(500),
        delivered_at timestamptz,
        CONSTRAINT uq_event_delivery_event_endpoint UNIQUE (task_event_id, endpoint),
        CONSTRAINT ck_event_delivery_state CHECK (state IN ('pending', 'delivered', 'failed'))
    )
    """,
    "CREATE INDEX IF NOT EXISTS ix_event_delivery_due ON event_delivery (next_attempt_at)"
    " WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS ix_event_delivery_failed ON event_delivery (endpoint, task_event_id)"
    " WHERE state = 'failed'",
    """
    CREATE TABLE IF NOT EXISTS webhook_endpoint (
        name varchar(64) PRIMARY KEY,
        disabled_at timestamptz,
        disabled_reason varchar(200)
    )
    """,
)

POSTGRES_SNAPSHOT = "jsonb_build_object({})".format(
    ", ".join(f"'{name}', NEW.{name}" for name in TASK_FIELDS)
)
POSTGRES_EVENT_ID = "'evt_' || replace(gen_random_uuid()::text, '-', '')"
POSTGRES_TRIGGER = (
    f"""
    CREATE OR REPLACE FUNCTION tasks_record_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        kind text;
        moment timestamptz;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO task_event
                (event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at)
            VALUES ({POSTGRES_EVENT_ID}, 'task.deleted', OLD.user_id, OLD.id,
                    OLD.event_sequence + 1, clock_timestamp(), NULL, clock_timestamp());
            RETURN OLD;
        ELSIF TG_OP = 'INSERT' THEN
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
        ELSE
            RETURN NEW;
        END IF;
        NEW.event_sequence := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE OLD.event_sequence + 1 END;
        INSERT INTO task_event
            (event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at)
        VALUES ({POSTGRES_EVENT_ID}, kind, NEW.user_id, NEW.id, NEW.event_sequence, moment,
                {POSTGRES_SNAPSHOT}, clock_timestamp());
        RETURN NEW;
    END
    $$
    """,
    # After tasks_bump_version (triggers of an event fire in name order): the version a
    # previous release's write gets is set when this one looks at it.
    """
    CREATE OR REPLACE TRIGGER tasks_record_event BEFORE INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_record_event()
    """,
)
POSTGRES_PAST_REMINDERS = (
    "UPDATE tasks SET reminded_at = remind_at"
    " WHERE remind_at <= now() AND reminded_at IS DISTINCT FROM remind_at"
)

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
SQLITE_EVENT_ID = "'evt_' || lower(hex(randomblob(16)))"
SQLITE_SNAPSHOT = "json_object({})".format(
    ", ".join(
        f"'{name}', "
        + {
            "completed": "json(CASE WHEN NEW.completed THEN 'true' ELSE 'false' END)",
            "tags": "json(NEW.tags)",
        }.get(name, f"NEW.{name}")
        for name in TASK_FIELDS
    )
)
SQLITE_COLUMNS = "(event_id, type, user_id, task_id, sequence, occurred_at, task, recorded_at)"
SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER tasks_event_created AFTER INSERT ON tasks BEGIN
        UPDATE tasks SET event_sequence = 1 WHERE id = NEW.id;
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({SQLITE_EVENT_ID}, 'task.created', NEW.user_id, NEW.id, 1, NEW.created_at,
                {SQLITE_SNAPSHOT}, {SQLITE_NOW});
    END
    """,
    f"""
    CREATE TRIGGER tasks_event_changed AFTER UPDATE ON tasks
    WHEN NEW.updated_at IS NOT OLD.updated_at OR NEW.version <> OLD.version BEGIN
        UPDATE tasks SET event_sequence = OLD.event_sequence + 1 WHERE id = NEW.id;
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({SQLITE_EVENT_ID},
                CASE WHEN NEW.completed AND NOT OLD.completed
                     THEN 'task.completed' ELSE 'task.updated' END,
                NEW.user_id, NEW.id, OLD.event_sequence + 1, NEW.updated_at,
                {SQLITE_SNAPSHOT}, {SQLITE_NOW});
    END
    """,
    f"""
    CREATE TRIGGER tasks_event_reminder AFTER UPDATE OF reminded_at ON tasks
    WHEN NEW.reminded_at IS NOT OLD.reminded_at AND NEW.reminded_at IS NOT NULL
         AND NOT NEW.completed AND NEW.updated_at IS OLD.updated_at
         AND NEW.version = OLD.version BEGIN
        UPDATE tasks SET event_sequence = OLD.event_sequence + 1 WHERE id = NEW.id;
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({SQLITE_EVENT_ID}, 'reminder.due', NEW.user_id, NEW.id,
                OLD.event_sequence + 1, NEW.reminded_at, {SQLITE_SNAPSHOT}, {SQLITE_NOW});
    END
    """,
    f"""
    CREATE TRIGGER tasks_event_deleted AFTER DELETE ON tasks BEGIN
        INSERT INTO task_event {SQLITE_COLUMNS}
        VALUES ({SQLITE_EVENT_ID}, 'task.deleted', OLD.user_id, OLD.id,
                OLD.event_sequence + 1, {SQLITE_NOW}, NULL, {SQLITE_NOW});
    END
    """,
)
SQLITE_TRIGGER_NAMES = (
    "tasks_event_created",
    "tasks_event_changed",
    "tasks_event_reminder",
    "tasks_event_deleted",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _upgrade_sqlite()
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(*POSTGRES_TABLES, what="the events outbox tables")
        online.backfill(
            "SELECT id FROM tasks WHERE id > %s AND remind_at <= now()"
            " AND reminded_at IS DISTINCT FROM remind_at ORDER BY id LIMIT %s",
            _claim_past_reminders,
            batch_size=BACKFILL_BATCH,
            what="claim the reminders already past",
        )
        online.create_index_concurrently(
            REMINDER_DUE_INDEX,
            "ON tasks (remind_at)"
            " WHERE remind_at IS NOT NULL AND reminded_at IS DISTINCT FROM remind_at",
        )
        online.atomically(
            POSTGRES_PAST_REMINDERS, *POSTGRES_TRIGGER, what="the events outbox trigger"
        )


def _claim_past_reminders(rows: Sequence[tuple[Any, ...]]) -> tuple[str, Sequence[object]]:
    return (
        "UPDATE tasks SET reminded_at = remind_at WHERE id = ANY(%s) AND remind_at <= now()",
        ([row[0] for row in rows],),
    )


def _upgrade_sqlite() -> None:
    # In place (SQLite 3.35+): a batch copy would drop the table's triggers.
    op.add_column(
        "tasks",
        sa.Column("event_sequence", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("tasks", sa.Column("reminded_at", UTCDateTime(), nullable=True))
    op.create_table(
        "task_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("task", sa.JSON(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_task_event_undispatched", "task_event", ["id"], sqlite_where=sa.text("NOT dispatched")
    )
    op.create_index("ix_task_event_recorded_at", "task_event", ["recorded_at"])
    op.create_table(
        "event_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_event_id",
            sa.Integer(),
            sa.ForeignKey("task_event.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("leased_until", UTCDateTime(), nullable=True),
        sa.Column("leased_by", sa.String(32), nullable=True),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("task_event_id", "endpoint", name="uq_event_delivery_event_endpoint"),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name="ck_event_delivery_state"
        ),
    )
    op.create_index(
        "ix_event_delivery_due",
        "event_delivery",
        ["next_attempt_at"],
        sqlite_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_event_delivery_failed",
        "event_delivery",
        ["endpoint", "task_event_id"],
        sqlite_where=sa.text("state = 'failed'"),
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
    )
    op.create_index(
        REMINDER_DUE_INDEX,
        "tasks",
        ["remind_at"],
        sqlite_where=sa.text("remind_at IS NOT NULL AND reminded_at IS NOT remind_at"),
    )
    op.execute(
        f"UPDATE tasks SET reminded_at = remind_at WHERE remind_at <= {SQLITE_NOW}"
        " AND reminded_at IS NOT remind_at"
    )
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_index(REMINDER_DUE_INDEX, table_name="tasks")
        for table in ("webhook_endpoint", "event_delivery", "task_event"):
            op.drop_table(table)  # with its indexes
        op.drop_column("tasks", "reminded_at")
        op.drop_column("tasks", "event_sequence")
        return
    online.set_timeouts()
    with online.outside_transaction():
        online.atomically(
            "DROP TRIGGER IF EXISTS tasks_record_event ON tasks",
            "DROP FUNCTION IF EXISTS tasks_record_event()",
            what="the events outbox trigger",
        )
        online.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {REMINDER_DUE_INDEX}",
            f"drop index {REMINDER_DUE_INDEX}",
        )
        online.atomically(
            "DROP TABLE IF EXISTS webhook_endpoint",
            "DROP TABLE IF EXISTS event_delivery",
            "DROP TABLE IF EXISTS task_event",
            "ALTER TABLE tasks DROP COLUMN IF EXISTS reminded_at",
            "ALTER TABLE tasks DROP COLUMN IF EXISTS event_sequence",
            what="the events outbox tables",
        )
