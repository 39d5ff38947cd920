"""Priorities, tags and keyword search: new columns, the task_tag table, their indexes.

Existing tasks get priority medium, no tags, and their folded title and description.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.storage.models import SEARCH_INDEX, SEARCH_TABLE, TagsType, TaskId
from backend.tasks.search import fold

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 10_000
EMPTY_TAGS = {"postgresql": "'{}'", "sqlite": "'[]'"}

# task_tag follows tasks.tags: one row per tag, written by the database itself, so a task and
# its tags change in the one statement the store runs.
POSTGRES_TAG_TRIGGERS = (
    """
    CREATE FUNCTION task_tag_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
    CREATE TRIGGER task_tag_insert AFTER INSERT ON tasks
    FOR EACH ROW WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION task_tag_sync()
    """,
    """
    CREATE TRIGGER task_tag_update AFTER UPDATE OF tags ON tasks
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
# Trigram GIN index of the folded text: serves `LIKE '%word%'` on either column.
POSTGRES_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX {SEARCH_INDEX} ON tasks USING gin "
    "(title_folded gin_trgm_ops, description_folded gin_trgm_ops)",
)
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
    dialect = op.get_bind().dialect.name
    op.add_column(
        "tasks",
        sa.Column("priority", sa.SmallInteger(), nullable=False, server_default=sa.text("2")),
    )
    op.add_column(
        "tasks",
        sa.Column("tags", TagsType, nullable=False, server_default=sa.text(EMPTY_TAGS[dialect])),
    )
    for name in ("title_folded", "description_folded"):
        op.add_column(
            "tasks", sa.Column(name, sa.Text(), nullable=False, server_default=sa.text("''"))
        )
    if dialect == "postgresql":
        op.create_check_constraint("ck_tasks_priority", "tasks", "priority IN (1, 2, 3)")
    backfill_folded_text()
    op.create_index("ix_tasks_owner_priority", "tasks", ["user_id", "priority", "created_at", "id"])
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
    postgres = dialect == "postgresql"
    for statement in (
        *(POSTGRES_TAG_TRIGGERS if postgres else SQLITE_TAG_TRIGGERS),
        *(POSTGRES_SEARCH if postgres else SQLITE_SEARCH),
    ):
        op.execute(statement)


def backfill_folded_text() -> None:
    """Fold every existing title and description, in batches of ids."""
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
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index(SEARCH_INDEX, table_name="tasks")
        op.execute("DROP TRIGGER task_tag_update ON tasks")
        op.execute("DROP TRIGGER task_tag_insert ON tasks")
        op.execute("DROP FUNCTION task_tag_sync()")
        op.drop_constraint("ck_tasks_priority", "tasks", type_="check")
    else:
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
