"""The store's cache of compiled statements (backend/queries/statements.py) as a plain object: each
key compiled once for its database's dialect, marked as the caller asked, and bounded."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import ClauseElement, column, select, table
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

import backend.queries.statements
from backend.queries.statements import MAX_CACHED_STATEMENTS, StatementCache
from backend.storage.database import Database, Row, Statement, Transaction

TASKS = table("tasks", column("id"), column("title"))


class CompilingDatabase(Database):
    """Compiles for a real dialect and notes each statement it compiles; runs nothing."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.compiled: list[ClauseElement] = []

    def compile(self, statement: ClauseElement) -> Statement:
        self.compiled.append(statement)
        return super().compile(statement)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        raise NotImplementedError

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        raise NotImplementedError

    async def ping(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def builder(limit: int) -> Callable[[], ClauseElement]:
    return lambda: select(TASKS.c.id).where(TASKS.c.title == "x").limit(limit)


def test_a_key_is_compiled_once_for_the_database_dialect() -> None:
    database = CompilingDatabase(sqlite.dialect())
    cache = StatementCache(database)
    first = cache(("list", 1), builder(5))
    assert first == Statement(
        "SELECT tasks.id \nFROM tasks \nWHERE tasks.title = ?\n LIMIT ? OFFSET ?",
        {"title_1": "x", "param_1": 5, "param_2": 0},
    )
    assert cache(("list", 1), builder(99)) is first  # the first build is kept for the key
    assert len(database.compiled) == 1
    assert cache(("list", 2), builder(7)).defaults["param_1"] == 7
    assert len(database.compiled) == 2


def test_each_database_compiles_in_its_own_dialect() -> None:
    # As backend/storage/postgres.py builds it; SQLAlchemy leaves the constructor untyped.
    dialect = PGDialect_psycopg(paramstyle="pyformat")  # type: ignore[no-untyped-call]
    statement = StatementCache(CompilingDatabase(dialect))(("list",), builder(5))
    assert "%(title_1)s" in statement.sql


def test_a_statement_is_planned_per_call_only_when_asked() -> None:
    cache = StatementCache(CompilingDatabase(sqlite.dialect()))
    assert cache(("plain",), builder(1)).planned_per_call is False
    assert cache(("per call",), builder(1), planned_per_call=True).planned_per_call is True
    # Cached with its mark: a later call does not change it.
    assert cache(("per call",), builder(1)).planned_per_call is True


def test_past_the_bound_a_new_key_is_compiled_for_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert MAX_CACHED_STATEMENTS == 1_000
    monkeypatch.setattr(backend.queries.statements, "MAX_CACHED_STATEMENTS", 2)
    database = CompilingDatabase(sqlite.dialect())
    cache = StatementCache(database)
    for key in ("a", "b", "c", "c", "a", "b", "c"):
        cache((key,), builder(1), planned_per_call=key == "c")
    assert len(database.compiled) == 5  # a, b once each; c three times, never kept
    assert cache(("c",), builder(1)).planned_per_call is False  # each call's own mark
    assert len(database.compiled) == 6
