"""A database that hands every call to another, for tests and benchmarks that watch one kind
of call (a subclass overrides `fetch` to record or time reads) on the real database."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from backend.storage.database import Database, Row, Statement, Transaction


class PassThroughDatabase(Database):
    """`database`'s dialect and behaviour, call for call."""

    def __init__(self, database: Database) -> None:
        self.dialect = database.dialect
        self.database = database

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        return await self.database.fetch(statement, params)

    async def write(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        return await self.database.write(statement, params)

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        return self.database.transaction()

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        await self.database.close()
