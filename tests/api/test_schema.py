"""The migrated database, the SQLModel tables and specs/database/schema.md agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import codegen
from backend.storage.factory import sync_url
from backend.storage.models import is_search_index

SCHEMA_SPEC = Path(__file__).resolve().parents[2] / "specs" / "database" / "schema.md"
TABLES = (
    "tasks",
    "task_tag",
    "idempotency_key",
    "task_event",
    "event_delivery",
    "webhook_endpoint",
)
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def documented_columns(table: str) -> dict[str, bool]:
    """Columns (name -> nullable) from schema.md's table of this table."""
    schema = codegen.read_sections(SCHEMA_SPEC.read_text(encoding="utf-8")).children[0]
    rows = schema.require_child(f"Table {table}").tables[0].rows
    return {row.text("Column"): row.text("Null") == "yes" for row in rows}


def documented_indexes(database: str) -> dict[tuple[str, str], list[str]]:
    """Indexes ((table, name) -> columns) schema.md documents for this database."""
    schema = codegen.read_sections(SCHEMA_SPEC.read_text(encoding="utf-8")).children[0]
    rows = schema.require_child("Indexes").tables[0].rows
    return {
        (row.text("Table"), row.text("Index")): [
            column.strip() for column in row.text("Columns").split(",")
        ]
        for row in rows
        if row.text("Database") in ("both", DATABASE_NAMES[database])
    }


def not_search_index(
    _object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any
) -> bool:
    # The search index is per database (GIN or FTS5) and lives in the migrations only.
    return not (type_ in ("table", "index") and is_search_index(name))


def test_migrations_match_the_models(database_url: str) -> None:
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": not_search_index})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrated_database_is_the_documented_schema(database_url: str) -> None:
    engine = sa.create_engine(sync_url(database_url))
    inspector = sa.inspect(engine)
    indexes = documented_indexes(engine.dialect.name)
    reflected_indexes: dict[tuple[str, str], list[str]] = {}
    for table in TABLES:
        reflected = {column["name"]: column["nullable"] for column in inspector.get_columns(table)}
        assert reflected == documented_columns(table), table
        primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
        assert primary_key == indexes.pop((table, f"{table}_pkey"))
        reflected_indexes |= {
            (table, str(index["name"])): [str(name) for name in index["column_names"]]
            for index in inspector.get_indexes(table)
        }
    if engine.dialect.name == "sqlite":  # the FTS5 table stands for an index
        search = [column["name"] for column in inspector.get_columns("task_search")]
        reflected_indexes[("task_search", "task_search")] = search
    engine.dispose()
    assert reflected_indexes == indexes
