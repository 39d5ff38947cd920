"""SQLite: one reader in the event loop, one writer on aiosqlite's thread, in WAL mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite
import orjson
from sqlalchemy import JSON, Boolean, Date, DateTime
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlmodel import SQLModel

from backend.storage.database import (
    Database,
    DatabaseUnavailable,
    Row,
    Statement,
    Transaction,
    unique_violations_as_conflicts,
)

SQLITE_BUSY_TIMEOUT_MS = 5000

# WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def set_sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """The server's pragmas on a blocking connection (migrations use this one)."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_decoders() -> dict[str, Callable[[Any], Any]]:
    """Column name -> decoder of SQLite's storage form, for every column of the tables."""
    decoders: dict[str, Callable[[Any], Any]] = {}
    dialect = SQLiteDialect_pysqlite()
    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            sqlite_type = column.type.dialect_impl(dialect)
            column_type = getattr(sqlite_type, "impl", sqlite_type)
            if isinstance(column_type, JSON):
                decoders[column.name] = _decode_json
            elif isinstance(column_type, DateTime):
                decoders[column.name] = from_sqlite_timestamp
            elif isinstance(column_type, Date):
                decoders[column.name] = _decode_date
            elif isinstance(column_type, Boolean):
                decoders[column.name] = _decode_boolean
    return decoders


def from_sqlite_timestamp(value: str) -> datetime:
    """The moment of a stored timestamp: sqlite_timestamp() read back."""
    # Stored without an offset, always UTC; parsing the offset is faster than adding tzinfo.
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        # Release 1.4.2 wrote the years before 1000 unpadded (`362-06-25 ...`); migration
        # 0006 pads the rows it finds, and a row a 1.4.2 server writes later still reads.
        year, dash, rest = value.partition("-")
        if not dash or not year.isdigit():
            raise
        return datetime.fromisoformat(f"{int(year):04d}-{rest}+00:00")


def _decode_date(value: str) -> date:
    return date.fromisoformat(value)


def _decode_boolean(value: int) -> bool:
    return bool(value)


def _decode_json(value: str) -> Any:
    return orjson.loads(value)


def sqlite_timestamp(moment: datetime) -> str:
    """An aware moment as SQLite stores it: SQLAlchemy's text form of the UTC time.

    It sorts chronologically because every field is zero-padded, the year too, which
    strftime's `%Y` does not pad on glibc (the year 362 would sort after 2026)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _encode_sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return sqlite_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value)
    return value


class SqliteDatabase(Database):
    """Two connections per process, both in autocommit.

    Writes go through one aiosqlite connection: its thread runs them one at a time, so
    writers of this process queue in order instead of sleeping in SQLite's busy handler,
    and a write waiting on another process's lock never blocks the event loop.
    Reads run on a plain sqlite3 connection in the event loop itself: in WAL mode a reader
    never waits for the writer, and a page of 20 rows takes less time to read than the
    hop to a thread and back would (measured in docs/BENCHMARKS.md).
    """

    def __init__(self, path: str) -> None:
        self.dialect = SQLiteDialect_pysqlite(paramstyle="named")
        self.path = path
        self._reader: sqlite3.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        # One writer connection serves the whole process: while a transaction is open on
        # it, no other write may slip into that transaction.
        self._writing = asyncio.Lock()
        self._decoders = _sqlite_decoders()

    def _open_reader(self) -> sqlite3.Connection:
        if self._reader is None:
            reader = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            for pragma in SQLITE_PRAGMAS:
                reader.execute(pragma)
            self._reader = reader
        return self._reader

    async def _open_writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            async with self._opening:
                if self._writer is None:
                    writer = await aiosqlite.connect(
                        self.path,
                        isolation_level=None,
                        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                        check_same_thread=False,
                    )
                    writer.row_factory = sqlite3.Row
                    for pragma in SQLITE_PRAGMAS:
                        await writer.execute(pragma)
                    self._writer = writer
        return self._writer

    def _arguments(self, statement: Statement, params: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**statement.defaults, **params}
        return {name: _encode_sqlite(value) for name, value in merged.items()}

    def _rows(self, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Row]:
        decoded = [
            (name, index, decode)
            for index, name in enumerate(names)
            if (decode := self._decoders.get(name)) is not None
        ]
        records = [dict(zip(names, row, strict=True)) for row in rows]
        for name, index, decode in decoded:
            for record, row in zip(records, rows, strict=True):
                value = row[index]
                if value is not None:
                    record[name] = decode(value)
        return records

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            cursor = self._open_reader().execute(statement.sql, self._arguments(statement, params))
            rows = cursor.fetchall()
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        return self._rows([column[0] for column in cursor.description], rows)

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        async with self._writing:
            return await self._write(statement, params)

    async def _write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            writer = await self._open_writer()
            with unique_violations_as_conflicts():
                arguments = self._arguments(statement, params)
                rows = list(await writer.execute_fetchall(statement.sql, arguments))
        except sqlite3.OperationalError as error:
            # Locked past the busy timeout, disk I/O, file not openable: not the client's doing.
            raise DatabaseUnavailable(str(error)) from error
        return self._rows(rows[0].keys(), rows) if rows else []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE and COMMIT run on the writer's thread: they may wait for another
        process's lock, or checkpoint the WAL. The statements between them run in the event
        loop, on the same connection: once the transaction holds the write lock, a statement
        never waits for one, and an INSERT takes less time than the hop to the thread and
        back (measured in docs/BENCHMARKS.md)."""
        async with self._writing:
            try:
                writer = await self._open_writer()
                await writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise DatabaseUnavailable(str(error)) from error
            try:
                yield _SqliteTransaction(self, writer._conn)
            except BaseException:
                await writer.execute("ROLLBACK")
                raise
            try:
                await writer.execute("COMMIT")
            except sqlite3.OperationalError as error:
                await writer.execute("ROLLBACK")
                raise DatabaseUnavailable(str(error)) from error

    async def ping(self) -> None:
        await self.fetch(Statement("SELECT 1 AS ok", {}), {})

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None


@dataclass(frozen=True, slots=True)
class _SqliteTransaction:
    database: SqliteDatabase
    connection: sqlite3.Connection  # the writer's, used only while `_writing` is held

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        arguments = self.database._arguments(statement, params)
        try:
            with unique_violations_as_conflicts():
                cursor = self.connection.execute(statement.sql, arguments)
                rows = cursor.fetchall()
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        if not rows:
            return []
        return self.database._rows([column[0] for column in cursor.description], rows)
