"""The database interface the store uses: statements, rows, transactions, and its errors.

The store's statements are SQLAlchemy Core expressions on the SQLModel tables, compiled
once per dialect to SQL text and run through the async driver itself: the ORM's and the
async engine's per-query overhead cost three times the driver's own work (measured in
docs/BENCHMARKS.md). storage/postgres.py runs them on a psycopg 3 pool, storage/sqlite.py
on SQLite's driver; storage/factory.py picks the one DATABASE_URL names.
"""

from __future__ import annotations

import contextlib
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Row = dict[str, Any]


class DatabaseUnavailable(Exception):
    """The database cannot serve right now (down, unreachable, locked past the timeout)."""


class DatabaseConflict(Exception):
    """A write would have repeated a unique key: the statement stored nothing."""


SQLITE_UNIQUE_VIOLATIONS = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


@contextlib.contextmanager
def unique_violations_as_conflicts() -> Iterator[None]:
    """Either driver's unique violation, raised as DatabaseConflict."""
    try:
        yield
    except psycopg.errors.UniqueViolation as error:
        raise DatabaseConflict(error.diag.constraint_name) from error
    except sqlite3.IntegrityError as error:
        if error.sqlite_errorname in SQLITE_UNIQUE_VIOLATIONS:
            raise DatabaseConflict(str(error)) from error
        raise


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text in the driver's parameter style, with the defaults its compilation fixed.

    `planned_per_call`: PostgreSQL plans it for each call's values, never once for all
    (psycopg prepares a statement after 5 calls, and the server may then keep one generic
    plan). For statements whose best plan depends on the values: a word, a tag.
    """

    sql: str
    defaults: Mapping[str, Any]
    planned_per_call: bool = False


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """A connection pool's state now, and what happened since the last reading."""

    size: int
    idle: int
    max_size: int
    waiting: int
    waits: int
    timeouts: int


class Transaction(Protocol):
    """Statements that commit together, or not at all."""

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]: ...


class Database(ABC):
    """One database: statements compiled for its dialect, run by its async driver."""

    dialect: Dialect

    def compile(self, statement: ClauseElement) -> Statement:
        compiled = statement.compile(dialect=self.dialect)
        defaults = {name: value for name, value in compiled.params.items() if value is not None}
        return Statement(str(compiled), defaults)

    @abstractmethod
    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """Rows of a read (safe to retry once on a dropped connection)."""

    @abstractmethod
    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """Run one statement as its own transaction; its RETURNING rows."""

    @abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """Several writes as one transaction: committed when the block ends, else rolled back."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""

    @abstractmethod
    async def close(self) -> None: ...

    def pool_statistics(self) -> PoolStatistics | None:
        """The connection pool's state, and its waits since the last call (None: no pool)."""
        return None
