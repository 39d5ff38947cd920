"""Priorities, tags and keyword search: new columns, the task_tag table, their indexes.

Existing tasks get priority medium, no tags, and their folded title and description.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.storage.models import SEARCH_INDEX, SEARCH_TABLE, TagsType, TaskId
from backend.tasks.search import fold
from migrations import online
from migrations.folding import FOLD_FUNCTION, create_fold_function, drop_fold_function

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: ids per batch of the backfill (one writer: the batches only bound memory).
BACKFILL_BATCH = 10_000
# PostgreSQL: a batch's rows are locked while its UPDATE runs (tens of milliseconds).
ONLINE_BACKFILL_BATCH = 1_000
PRIORITY_CHECK = "ck_tasks_priority"
EMPTY_TAGS = {"postgresql": "'{}'", "sqlite": "'[]'"}

# task_tag follows tasks.tags: one row per tag, written by the database itself, so a task and
# its tags change in the one statement the store runs.
POSTGRES_TAG_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION task_tag_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM task_tag WHERE task_id = OLD.id;
        END IF;
        INSERT INTO task_tag (task_id, tag, user_id)
            SELECT NEW.id, tag, NEW.user_id FROM unnest(NEW.tags) AS tag;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER task_tag_insert AFTER INSERT ON tasks
    FOR EACH ROW WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION task_tag_sync()
    """,
    """
    CREATE OR REPLACE TRIGGER task_tag_update AFTER UPDATE OF tags ON tasks
    FOR EACH ROW WHEN (OLD.tags IS DISTINCT FROM NEW.tags) EXECUTE FUNCTION task_tag_sync()
    """,
)
SQLITE_TAG_TRIGGERS = (
    """
    CREATE TRIGGER task_tag_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_tag (task_id, tag, user_id)
            SELECT NEW.id, value, NEW.user_id FROM json_each(NEW.tags);
    END
    """,
    """
    CREATE TRIGGER task_tag_update AFTER UPDATE OF tags ON tasks BEGIN
        DELETE FROM task_tag WHERE task_id = OLD.id;
        INSERT INTO task_tag (task_id, tag, user_id)
            SELECT NEW.id, value, NEW.user_id FROM json_each(NEW.tags);
    END
    """,
)
POSTGRES_TAG_TABLE = (
    """
    CREATE TABLE IF NOT EXISTS task_tag (
        task_id BIGINT NOT NULL,
        tag VARCHAR(32) NOT NULL,
        user_id VARCHAR(128) NOT NULL,
        PRIMARY KEY (task_id, tag),
        FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX IF NOT EXISTS ix_task_tag_owner_tag ON task_tag (user_id, tag, task_id)",
)
# Trigram GIN index of the folded text: serves `LIKE '%word%'` on either column.
POSTGRES_SEARCH_INDEX = (
    "ON tasks USING gin (title_folded gin_trgm_ops, description_folded gin_trgm_ops)"
)
# While the migration runs, the previous release keeps writing titles without their folded
# form: this trigger folds them as they are written, until the migration's last step.
FOLD_TRIGGER = (
    f"""
    CREATE OR REPLACE FUNCTION task_fold_migration() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.title_folded := {FOLD_FUNCTION}(NEW.title);
        NEW.description_folded := {FOLD_FUNCTION}(coalesce(NEW.description, ''));
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER task_fold_migration BEFORE INSERT OR UPDATE OF title, description
    ON tasks FOR EACH ROW EXECUTE FUNCTION task_fold_migration()
    """,
)
OWN_FUNCTION = "-- squawk-ignore ban-drop-function -- this revision's own helper, created above"
# A title is never empty, so an empty title_folded marks a row not folded yet (a run
# stopped half-way goes on where it was).
FOLD_SELECT = (
    "SELECT id, title, description FROM tasks WHERE id > %s AND title_folded = ''"
    " ORDER BY id LIMIT %s"
)
FOLD_UPDATE = """
    UPDATE tasks SET title_folded = batch.title_folded,
        description_folded = batch.description_folded
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
        AS batch (id, title, description, title_folded, description_folded)
    WHERE tasks.id = batch.id AND tasks.title = batch.title
        AND tasks.description IS NOT DISTINCT FROM batch.description
"""
# FTS5 trigram table over the folded text (external content: it stores only the index).
SQLITE_SEARCH = (
    f"""
    CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(
        title_folded, description_folded,
        content='tasks', content_rowid='id', tokenize='trigram case_sensitive 1'
    )
    """,
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')",
    f"""
    CREATE TRIGGER task_search_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO {SEARCH_TABLE} (rowid, title_folded, description_folded)
            VALUES (NEW.id, NEW.title_folded, NEW.description_folded);
    END
    """,
    f"""
    CREATE TRIGGER task_search_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, title_folded, description_folded)
            VALUES ('delete', OLD.id, OLD.title_folded, OLD.description_folded);
    END
    """,
    f"""
    CREATE TRIGGER task_search_update AFTER UPDATE OF title_folded, description_folded
    ON tasks BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, title_folded, description_folded)
            VALUES ('delete', OLD.id, OLD.title_folded, OLD.description_folded);
        INSERT INTO {SEARCH_TABLE} (rowid, title_folded, description_folded)
            VALUES (NEW.id, NEW.title_folded, NEW.description_folded);
    END
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        upgrade_postgres_online()
        return
    op.add_column(
        "tasks",
        sa.Column("priority", sa.SmallInteger(), nullable=False, server_default=sa.text("2")),
    )
    op.add_column(
        "tasks",
        sa.Column("tags", TagsType, nullable=False, server_default=sa.text(EMPTY_TAGS["sqlite"])),
    )
    for name in ("title_folded", "description_folded"):
        op.add_column(
            "tasks", sa.Column(name, sa.Text(), nullable=False, server_default=sa.text("''"))
        )
    backfill_folded_text()
    op.create_index(
        "ix_tasks_owner_priority", "tasks", ["user_id", "priority", "created_at", "id"]
    )
    op.create_table(
        "task_tag",
        sa.Column(
            "task_id",
            TaskId,
            sa.ForeignKey("tasks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_task_tag_owner_tag", "task_tag", ["user_id", "tag", "task_id"])
    for statement in (*SQLITE_TAG_TRIGGERS, *SQLITE_SEARCH):
        op.execute(statement)


def upgrade_postgres_online() -> None:
    """Every step is short, or takes no lock reads and writes wait for, and each can be run
    again: an upgrade stopped anywhere completes when `alembic upgrade head` runs again."""
    online.set_timeouts()
    with online.outside_transaction():
        # A constant default is metadata only (PostgreSQL 11+): no rewrite, a brief lock.
        online.atomically(
            "ALTER TABLE tasks"
            " ADD COLUMN IF NOT EXISTS priority SMALLINT DEFAULT 2 NOT NULL,"
            " ADD COLUMN IF NOT EXISTS tags VARCHAR(32)[] DEFAULT '{}' NOT NULL,"
            " ADD COLUMN IF NOT EXISTS title_folded TEXT DEFAULT '' NOT NULL,"
            " ADD COLUMN IF NOT EXISTS description_folded TEXT DEFAULT '' NOT NULL",
            what="add the columns of tasks",
        )
        # Added unchecked (a brief lock), then checked under a lock that lets reads and
        # writes go on. A run stopped in between starts this step over.
        online.atomically(
            "-- squawk-ignore ban-drop-constraint -- only an interrupted run's, added again below\n"
            f"ALTER TABLE tasks DROP CONSTRAINT IF EXISTS {PRIORITY_CHECK}",
            f"ALTER TABLE tasks ADD CONSTRAINT {PRIORITY_CHECK}"
            " CHECK (priority IN (1, 2, 3)) NOT VALID",
            what=f"add {PRIORITY_CHECK}",
        )
        online.atomically(
            f"ALTER TABLE tasks VALIDATE CONSTRAINT {PRIORITY_CHECK}",
            what=f"validate {PRIORITY_CHECK}",
        )
        # Rows the previous release writes from now on are folded by the database itself;
        # the backfill then folds the rows written before.
        online.execute(create_fold_function(), what="create the fold function")
        online.atomically(*FOLD_TRIGGER, what="install the folding trigger")
        online.backfill(
            FOLD_SELECT, fold_batch, batch_size=ONLINE_BACKFILL_BATCH, what="fold a batch of tasks"
        )
        online.create_index_concurrently(
            "ix_tasks_owner_priority", "ON tasks (user_id, priority, created_at, id)"
        )
        # A new table: its foreign key takes a brief lock on tasks.
        online.atomically(
            *POSTGRES_TAG_TABLE, *POSTGRES_TAG_TRIGGERS, what="create task_tag and its triggers"
        )
        online.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", what="create pg_trgm")
        online.create_index_concurrently(SEARCH_INDEX, POSTGRES_SEARCH_INDEX)
        # Last: the previous release writes until the very end of the migration.
        online.atomically(
            "DROP TRIGGER IF EXISTS task_fold_migration ON tasks",
            f"{OWN_FUNCTION}\nDROP FUNCTION IF EXISTS task_fold_migration()",
            f"{OWN_FUNCTION}\n{drop_fold_function()}",
            what="remove the folding trigger",
        )


def fold_batch(rows: Sequence[tuple[Any, ...]]) -> tuple[str, Sequence[object]]:
    """One UPDATE for a batch; a row whose text changed since it was read is left to the
    trigger, which folded the new text."""
    ids, titles, descriptions = (list(column) for column in zip(*rows, strict=True))
    return FOLD_UPDATE, (
        ids,
        titles,
        descriptions,
        [fold(title) for title in titles],
        [fold(description or "") for description in descriptions],
    )


def backfill_folded_text() -> None:
    """SQLite: fold every existing title and description, in batches of ids."""
    connection = op.get_bind()
    select = sa.text(
        "SELECT id, title, description FROM tasks WHERE id > :after ORDER BY id LIMIT :size"
    )
    update = sa.text(
        "UPDATE tasks SET title_folded = :title_folded, description_folded = :description_folded"
        " WHERE id = :id"
    )
    after = 0
    while rows := connection.execute(select, {"after": after, "size": BACKFILL_BATCH}).all():
        connection.execute(
            update,
            [
                {
                    "id": task_id,
                    "title_folded": fold(title),
                    "description_folded": fold(description or ""),
                }
                for task_id, title, description in rows
            ],
        )
        after = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        downgrade_postgres_online()
        return
    for trigger in (
        "task_search_update",
        "task_search_delete",
        "task_search_insert",
        "task_tag_update",
        "task_tag_insert",
    ):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute(f"DROP TABLE {SEARCH_TABLE}")
    op.drop_index("ix_task_tag_owner_tag", table_name="task_tag")
    op.drop_table("task_tag")
    op.drop_index("ix_tasks_owner_priority", table_name="tasks")
    for name in ("description_folded", "title_folded", "tags", "priority"):
        op.drop_column("tasks", name)


def downgrade_postgres_online() -> None:
    """The same steps undone, each short; dropping a column is metadata only."""
    online.set_timeouts()
    with online.outside_transaction():
        for index in (SEARCH_INDEX, "ix_tasks_owner_priority"):
            online.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}", what=f"drop {index}")
        online.atomically(
            "DROP TRIGGER IF EXISTS task_tag_update ON tasks",
            "DROP TRIGGER IF EXISTS task_tag_insert ON tasks",
            "DROP FUNCTION IF EXISTS task_tag_sync()",
            "DROP TABLE IF EXISTS task_tag",
            what="drop task_tag and its triggers",
        )
        online.atomically(
            f"ALTER TABLE tasks DROP CONSTRAINT IF EXISTS {PRIORITY_CHECK},"
            " DROP COLUMN IF EXISTS description_folded, DROP COLUMN IF EXISTS title_folded,"
            " DROP COLUMN IF EXISTS tags, DROP COLUMN IF EXISTS priority",
            what="drop the columns of tasks",
        )
