"""The rows a table holds, read on the app's own database connection (not through the API)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Table, bindparam, select

from backend.storage.database import Database


async def table_rows(app: FastAPI, table: Table, **where: Any) -> list[dict[str, Any]]:
    """Every row of `table` whose columns equal the values given, in primary-key order."""
    database: Database = app.state.store.database
    statement = (
        select(table)
        .where(*(table.c[name] == bindparam(name) for name in where))
        .order_by(*table.primary_key.columns)
    )
    return await database.fetch(database.compile(statement), where)
