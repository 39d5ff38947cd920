"""PostgreSQL: a psycopg 3 connection pool, every statement in autocommit."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.rows import dict_row
from psycopg.types.datetime import TimestamptzLoader
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import URL

from backend.storage.database import (
    Database,
    DatabaseUnavailable,
    PoolStatistics,
    Row,
    Statement,
    Transaction,
    unique_violations_as_conflicts,
)
from backend.storage.pooler import (
    PREPARED_STATEMENT_ERRORS,
    SET_BY_STARTUP_OPTIONS,
    STARTUP_OPTIONS_SOURCE,
    refuses_startup_options,
    warn_pooler_found,
)

# A pooled PostgreSQL connection idle for longer than this is pinged before it is used
# (pre-ping), so one the server dropped meanwhile is replaced instead of failing a request.
# A connection in steady use is not pinged: that would double the round trips of a read.
PING_AFTER_IDLE_SECONDS = 2.0


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
    # switches to what the setting would have chosen, instead of answering 5xx. It must be
    # found before the first statement is prepared: through the pooler, a prepared statement
    # may later run on a server session where another connection prepared its name (psycopg
    # numbers them _pg3_0, _pg3_1, ... on each connection), and fail with
    # ProtocolViolation (a 503) or, given as many parameters, run the other statement.

    async def _detect_transaction_pooler(self) -> None:
        """Before the pool opens, on one probe connection: a pooler refuses the startup
        options, or they do not reach the session."""
        if self._transaction_pooler:
            return
        try:
            probe = await psycopg.AsyncConnection.connect(
                self._conninfo, **self._connection_options()
            )
        except psycopg.OperationalError as error:
            if refuses_startup_options(error):
                self._use_transaction_pooler("it refused the startup options")
            return  # any other failure is the pool's to report
        async with probe:
            try:
                cursor = await probe.execute(STARTUP_OPTIONS_SOURCE, prepare=False)
                row = await cursor.fetchone()
            except psycopg.Error:
                return  # the pool's to report, as above
        if row is not None and row["source"] != SET_BY_STARTUP_OPTIONS:
            self._use_transaction_pooler("the startup options did not reach the session")

    def _use_transaction_pooler(self, sign: str) -> None:
        if not self._transaction_pooler:
            self._transaction_pooler = True
            warn_pooler_found(sign)

    async def _execute(
        self,
        connection: psycopg.AsyncConnection[Row],
        statement: Statement,
        arguments: Mapping[str, Any],
    ) -> psycopg.AsyncCursor[Row]:
        """One statement in autocommit; sent again unprepared if the pooler lost its
        prepared form (it did not run: the error comes before execution)."""
        prepare = False if statement.planned_per_call else None
        try:
            return await connection.execute(statement.sql, arguments, prepare=prepare)
        except PREPARED_STATEMENT_ERRORS as error:
            self._use_transaction_pooler(type(error).__name__)
            connection.prepare_threshold = None
            return await connection.execute(statement.sql, arguments, prepare=prepare)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        arguments = {**statement.defaults, **params}
        for attempt in (1, 2):
            try:
                async with self._connection() as connection:
                    cursor = await self._execute(connection, statement, arguments)
                    return await cursor.fetchall()
            except psycopg.errors.QueryCanceled as error:
                # Canceled on a working connection (statement_timeout, mostly a lock held
                # past it): sent again, it would wait as long again, and the 503 come at
                # twice DATABASE_TIMEOUT_SECONDS.
                raise DatabaseUnavailable(type(error).__name__) from error
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
                with unique_violations_as_conflicts():
                    arguments = {**statement.defaults, **params}
                    cursor = await self._execute(connection, statement, arguments)
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

    def pool_statistics(self) -> PoolStatistics:
        """psycopg_pool's counters since the last call (it resets them), and its state now."""
        pool = self._pool
        if pool is None:  # no request yet: the pool opens with the first
            return PoolStatistics(0, 0, self._pool_size, 0, 0, 0)
        stats = pool.pop_stats()
        return PoolStatistics(
            size=stats.get("pool_size", 0),
            idle=stats.get("pool_available", 0),
            max_size=stats.get("pool_max", self._pool_size),
            waiting=stats.get("requests_waiting", 0),
            waits=stats.get("requests_queued", 0),
            timeouts=stats.get("requests_errors", 0),
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


@dataclass(frozen=True, slots=True)
class _PostgresTransaction:
    connection: psycopg.AsyncConnection[Row]

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        with unique_violations_as_conflicts():
            cursor = await self.connection.execute(statement.sql, {**statement.defaults, **params})
        return await cursor.fetchall() if cursor.description else []
