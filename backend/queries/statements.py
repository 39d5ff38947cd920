"""Statements compiled once per database: the store's cache of them, bounded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import ClauseElement

from backend.storage.database import Database, Statement

MAX_CACHED_STATEMENTS = 1_000


class StatementCache:
    """A statement per key, compiled for `database`'s dialect the first time it is asked for."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._compiled: dict[tuple[object, ...], Statement] = {}

    def __call__(
        self,
        key: tuple[object, ...],
        build: Callable[[], ClauseElement],
        *,
        planned_per_call: bool = False,
    ) -> Statement:
        """Compile each statement once for this database's dialect.

        Filters combine into tens of thousands of statement shapes (up to 50 words, 5 tags,
        ...); past MAX_CACHED_STATEMENTS a rare shape is compiled for its request only, so
        requests cannot grow the cache without bound.
        """
        statement = self._compiled.get(key)
        if statement is None:
            compiled = self.database.compile(build())
            statement = replace(compiled, planned_per_call=planned_per_call)
            if len(self._compiled) < MAX_CACHED_STATEMENTS:
                self._compiled[key] = statement
        return statement
