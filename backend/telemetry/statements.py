"""Statements measured and traced: a Database that hands every call to the real one.

Each statement's duration goes to `db_client_operation_duration_seconds` by operation and
table; inside a sampled request it is also a child span named like `SELECT tasks`, with the
operation and table as attributes, never the SQL's values (the parameters are not read).
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer

from backend.storage.database import Database, PoolStatistics, Row, Statement, Transaction
from backend.telemetry.metrics import Metrics
from backend.telemetry.tracing import recording

# Parentheses, verbs and the words before a table: the statement is the first verb outside
# any parenthesis (a WITH's expressions are inside theirs), its table the first name after
# FROM, INTO or UPDATE at that depth.
_TOKENS = re.compile(
    r"(\()|(\))|\b(SELECT|INSERT|UPDATE|DELETE)\b|\b(?:FROM|INTO)\s+\"?([a-z_][a-z0-9_]*)",
    re.I,
)
_AFTER_UPDATE = re.compile(r"\s+\"?([a-z_][a-z0-9_]*)", re.I)
UNKNOWN: Final = "other"


@functools.lru_cache(maxsize=4096)
def operation_of(sql: str) -> tuple[str, str]:
    """(operation, table) of a statement, such as ("SELECT", "tasks"); "other" for either
    when the SQL does not say."""
    depth = 0
    operation = UNKNOWN
    for token in _TOKENS.finditer(sql):
        opening, closing, verb, table = token.groups()
        if opening or closing:
            depth += 1 if opening else -1
        elif depth != 0:
            continue
        elif verb and operation == UNKNOWN:
            operation = verb.upper()
            if operation == "UPDATE":
                named = _AFTER_UPDATE.match(sql, token.end())
                return operation, named.group(1).lower() if named else UNKNOWN
        elif table and operation != UNKNOWN:
            return operation, table.lower()
    return operation, UNKNOWN


class ObservedDatabase(Database):
    """`database`, call for call, each statement timed and, inside a sampled trace, a span."""

    def __init__(self, database: Database, metrics: Metrics | None, tracer: Tracer | None) -> None:
        self.database = database
        self.dialect = database.dialect
        self.system = "postgresql" if database.dialect.name == "postgresql" else "sqlite"
        self.metrics = metrics
        self.tracer = tracer
        self._children: dict[tuple[str, str], Any] = {}

    def _span(self, operation: str, table: str) -> Span | None:
        """A child span of the request's, when the request is traced."""
        if self.tracer is None or not recording.get():
            return None
        return self.tracer.start_span(
            f"{operation} {table}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": self.system,
                "db.operation.name": operation,
                "db.collection.name": table,
            },
        )

    def _ended(self, key: tuple[str, str], started: float, span: Span | None) -> None:
        if self.metrics is not None:
            child = self._children.get(key)
            if child is None:
                child = self.metrics.statement_duration.labels(self.system, *key)
                self._children[key] = child
            child.observe(time.perf_counter() - started)
        if span is not None:
            span.end()

    def _failed(self, span: Span | None, error: BaseException) -> None:
        if span is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(trace.StatusCode.ERROR)

    # fetch, write and the transaction's write are written out alike rather than through a
    # shared coroutine or a context manager: each layer costs every statement a microsecond.

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        key = operation_of(statement.sql)
        span = self._span(*key)
        started = time.perf_counter()
        try:
            return await self.database.fetch(statement, params)
        except BaseException as error:
            self._failed(span, error)
            raise
        finally:
            self._ended(key, started, span)

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        key = operation_of(statement.sql)
        span = self._span(*key)
        started = time.perf_counter()
        try:
            return await self.database.write(statement, params)
        except BaseException as error:
            self._failed(span, error)
            raise
        finally:
            self._ended(key, started, span)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.database.transaction() as transaction:
            yield _ObservedTransaction(self, transaction)

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        await self.database.close()

    def pool_statistics(self) -> PoolStatistics | None:
        return self.database.pool_statistics()


class _ObservedTransaction:
    def __init__(self, database: ObservedDatabase, transaction: Transaction) -> None:
        self.database = database
        self.transaction = transaction

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        key = operation_of(statement.sql)
        span = self.database._span(*key)
        started = time.perf_counter()
        try:
            return await self.transaction.write(statement, params)
        except BaseException as error:
            self.database._failed(span, error)
            raise
        finally:
            self.database._ended(key, started, span)
