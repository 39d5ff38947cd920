"""The migrated database, the SQLModel tables and specs/database/schema.md agree."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import codegen
from backend.db import sync_url
from backend.models import SQLModel

SCHEMA_SPEC = Path(__file__).resolve().parents[2] / "specs" / "database" / "schema.md"


def documented() -> tuple[dict[str, bool], dict[str, list[str]]]:
    """Columns (name -> nullable) and indexes (name -> columns) from schema.md's tables."""
    root = codegen.read_sections(SCHEMA_SPEC.read_text(encoding="utf-8"))
    schema = root.children[0]
    table = schema.require_child("Table tasks").tables[0]
    columns = {row.text("Column"): row.text("Null") == "yes" for row in table.rows}
    index_table = schema.require_child("Indexes").tables[0]
    indexes = {
        row.text("Index"): [column.strip() for column in row.text("Columns").split(",")]
        for row in index_table.rows
    }
    return columns, indexes


def test_migrations_match_the_models(database_url: str) -> None:
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrated_database_is_the_documented_schema(database_url: str) -> None:
    columns, indexes = documented()
    engine = sa.create_engine(sync_url(database_url))
    inspector = sa.inspect(engine)
    reflected = {column["name"]: column["nullable"] for column in inspector.get_columns("tasks")}
    reflected_indexes = {
        str(index["name"]): [str(name) for name in index["column_names"]]
        for index in inspector.get_indexes("tasks")
    }
    primary_key = inspector.get_pk_constraint("tasks")["constrained_columns"]
    engine.dispose()
    assert reflected == columns
    assert primary_key == indexes.pop("tasks_pkey")
    assert reflected_indexes == indexes
