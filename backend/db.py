"""Connections to the database: a psycopg 3 pool for PostgreSQL, aiosqlite for SQLite.

The store's statements are SQLAlchemy Core expressions on the SQLModel tables, compiled
once per dialect to SQL text and run through the async driver itself: the ORM's and the
async engine's per-query overhead cost three times the driver's own work (measured in
docs/BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import aiosqlite
import orjson
import psycopg
from psycopg.abc import Buffer
from psycopg.rows import dict_row
from psycopg.types.datetime import TimestamptzLoader
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout
from sqlalchemy import JSON, Boolean, Date, DateTime
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.sql import ClauseElement
from sqlmodel import SQLModel

from backend.pooler import PREPARED_STATEMENT_ERRORS, refuses_startup_options, warn_pooler_found
from backend.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used
# (pre-ping), so one the server dropped meanwhile is replaced instead of failing a request.
# A connection in steady use is not pinged: that would double the round trips of a read.
PING_AFTER_IDLE_SECONDS = 2.0
# SQLAlchemy's own text form of a UTC timestamp on SQLite, which sorts chronologically.
SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

# WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)

Row = dict[str, Any]


class DatabaseUnavailable(Exception):
    """The database cannot serve right now (down, unreachable, locked past the timeout)."""


class DatabaseConflict(Exception):
    """A write would have repeated a unique key: the statement stored nothing."""


SQLITE_UNIQUE_VIOLATIONS = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


@contextlib.contextmanager
def _unique_violations_as_conflicts() -> Iterator[None]:
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
    """SQL text in the driver's parameter style, with the defaults its compilation fixed."""

    sql: str
    defaults: Mapping[str, Any]


def _normalized(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgres":  # Heroku/Neon-style scheme
        parsed = parsed.set(drivername="postgresql")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: "
            "DATABASE_URL must be sqlite:///FILE or postgresql://..."
        )
    return parsed


def sync_url(url: str) -> URL:
    """The URL with the blocking driver migrations use: sqlite3 or psycopg 3."""
    parsed = _normalized(url)
    driver = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def set_sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """The server's pragmas on a blocking connection (migrations use this one)."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


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


class UtcTimestamptzLoader(TimestamptzLoader):
    """Reads `timestamptz` in UTC whatever the session's TimeZone: behind a transaction
    pooler the session is not ours to set, and the contract's timestamps are UTC.

    Pure Python (psycopg's C loader has no subclass), so it is used only on a connection
    whose session is not in UTC: it costs 11 % of a list's CPU (docs/PERFORMANCE.md).
    """

    def load(self, data: Buffer) -> datetime:
        return super().load(data).astimezone(UTC)


async def _read_timestamps_in_utc(connection: psycopg.AsyncConnection[Row]) -> None:
    """Keep psycopg's C loader, which converts to the session's TimeZone, where that is UTC
    (the server's default, and what the startup options ask for); elsewhere, convert."""
    if connection.info.timezone is not UTC:
        connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


class PostgresDatabase(Database):
    """A psycopg 3 connection pool. Every statement runs in autocommit: each is atomic.

    With `transaction_pooler` (DATABASE_URL names a PgBouncer in transaction mode, as hosted
    and serverless PostgreSQL offer), nothing relies on keeping one server connection across
    statements: no prepared statements and no session settings in the startup packet.
    """

    def __init__(
        self,
        url: URL,
        *,
        pool_size: int,
        timeout_seconds: float,
        transaction_pooler: bool = False,
    ) -> None:
        self.dialect = PGDialect_psycopg(paramstyle="pyformat")  # type: ignore[no-untyped-call]
        self._returned_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Row], float] = (
            weakref.WeakKeyDictionary()
        )
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool_size = pool_size
        self._timeout = timeout_seconds
        self._transaction_pooler = transaction_pooler
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] | None = None
        self._opening = asyncio.Lock()

    async def _ping_if_idle(self, connection: psycopg.AsyncConnection[Row]) -> None:
        returned_at = self._returned_at.get(connection)
        if returned_at is None or time.monotonic() - returned_at > PING_AFTER_IDLE_SECONDS:
            await connection.execute("SELECT 1")

    def _new_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Row]]:
        timeout = self._timeout
        return AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self._pool_size,
            timeout=timeout,
            open=False,
            check=self._ping_if_idle,
            configure=_read_timestamps_in_utc,
            kwargs=self._connection_options(),
        )

    def _connection_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": max(1, int(self._timeout)),
            # A server that vanishes without closing the connection is noticed.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        if self._transaction_pooler:
            # Each statement may run on another server connection: one prepared on the last
            # would be missing, or already exist, there. PgBouncer refuses startup options;
            # the statement timeout is then the role's (ALTER ROLE ... SET statement_timeout).
            options["prepare_threshold"] = None
        else:
            options["options"] = f"-c timezone=UTC -c statement_timeout={int(self._timeout * 1000)}"
        return options

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        # Opened on first use, in the event loop that serves requests; reopened after close().
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    await self._detect_transaction_pooler()
                    pool = self._new_pool()
                    await pool.open(wait=False)
                    self._pool = pool
        try:
            # statement_timeout bounds the server's work; this bounds the wait for an answer
            # from a server that stopped answering without closing the connection.
            async with asyncio.timeout(self._timeout * 2), self._pool.connection() as connection:
                if self._transaction_pooler and connection.prepare_threshold is not None:
                    connection.prepare_threshold = None
                yield connection
                # Noted here rather than in a pool `reset` callback: that costs an extra await
                # on every return (about 10 us a request, measured).
                self._returned_at[connection] = time.monotonic()
        except (PoolTimeout, PoolClosed, TimeoutError) as error:
            raise DatabaseUnavailable(type(error).__name__) from error

    # A transaction-mode pooler found although DATABASE_TRANSACTION_POOLER is off: the pool
    # switches to what the setting would have chosen, instead of answering 5xx.

    async def _detect_transaction_pooler(self) -> None:
        """Before the pool opens: a pooler that refuses the startup options is one."""
        if self._transaction_pooler:
            return
        try:
            probe = await psycopg.AsyncConnection.connect(
                self._conninfo, **self._connection_options()
            )
        except psycopg.OperationalError as error:
            if refuses_startup_options(error):
                self._use_transaction_pooler(error)
            return  # any other failure is the pool's to report
        await probe.close()

    def _use_transaction_pooler(self, cause: psycopg.Error) -> None:
        if not self._transaction_pooler:
            self._transaction_pooler = True
            warn_pooler_found(cause)

    async def _execute(
        self, connection: psycopg.AsyncConnection[Row], sql: str, arguments: Mapping[str, Any]
    ) -> psycopg.AsyncCursor[Row]:
        """One statement in autocommit; sent again unprepared if the pooler lost its
        prepared form (it did not run: the error comes before execution)."""
        try:
            return await connection.execute(sql, arguments)
        except PREPARED_STATEMENT_ERRORS as error:
            self._use_transaction_pooler(error)
            connection.prepare_threshold = None
            return await connection.execute(sql, arguments)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        arguments = {**statement.defaults, **params}
        for attempt in (1, 2):
            try:
                async with self._connection() as connection:
                    cursor = await self._execute(connection, statement.sql, arguments)
                    return await cursor.fetchall()
            except psycopg.OperationalError as error:
                # A read may be repeated: the connection may have been dropped since its
                # last use (a server restart); the pool replaces broken connections.
                if attempt == 2:
                    raise DatabaseUnavailable(type(error).__name__) from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        # A write is never repeated: if the connection broke mid-statement, whether it
        # committed is unknown, and the client is told 503 rather than a guess.
        try:
            async with self._connection() as connection:
                with _unique_violations_as_conflicts():
                    arguments = {**statement.defaults, **params}
                    cursor = await self._execute(connection, statement.sql, arguments)
                return await cursor.fetchall() if cursor.description else []
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(type(error).__name__) from error

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        # A transaction stays on one server connection, behind a transaction pooler too.
        try:
            async with self._connection() as connection, connection.transaction():
                yield _PostgresTransaction(connection)
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(type(error).__name__) from error

    async def ping(self) -> None:
        await self.fetch(Statement("SELECT 1 AS ok", {}), {})

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


@dataclass(frozen=True, slots=True)
class _PostgresTransaction:
    connection: psycopg.AsyncConnection[Row]

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        with _unique_violations_as_conflicts():
            cursor = await self.connection.execute(statement.sql, {**statement.defaults, **params})
        return await cursor.fetchall() if cursor.description else []


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
                decoders[column.name] = _decode_timestamp
            elif isinstance(column_type, Date):
                decoders[column.name] = _decode_date
            elif isinstance(column_type, Boolean):
                decoders[column.name] = _decode_boolean
    return decoders


def _decode_timestamp(value: str) -> datetime:
    # Stored without an offset, always UTC; parsing the offset is faster than adding tzinfo.
    return datetime.fromisoformat(value + "+00:00")


def _decode_date(value: str) -> date:
    return date.fromisoformat(value)


def _decode_boolean(value: int) -> bool:
    return bool(value)


def _decode_json(value: str) -> Any:
    return orjson.loads(value)


def _encode_sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIMESTAMP_FORMAT)
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
            with _unique_violations_as_conflicts():
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
            with _unique_violations_as_conflicts():
                cursor = self.connection.execute(statement.sql, arguments)
                rows = cursor.fetchall()
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        if not rows:
            return []
        return self.database._rows([column[0] for column in cursor.description], rows)


def connect(settings: Settings) -> Database:
    """The database DATABASE_URL names (nothing is opened until the first statement)."""
    url = _normalized(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteDatabase(url.database or ":memory:")
    return PostgresDatabase(
        url,
        pool_size=settings.database_pool_size,
        timeout_seconds=settings.database_timeout_seconds,
        transaction_pooler=settings.database_transaction_pooler,
    )
