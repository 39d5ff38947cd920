"""`python -m bench.limits`: what bounds the API's speed, measured apart from the API.

Two costs the API pays on every request that no change of its own code removes:

1. FastAPI's resolution of a route's dependencies: the same endpoint with the API's
   dependency graph (the owner, whose token is checked first, the store, the query
   model after the owner), with one dependency, and with none, called in process.
2. On SQLite, the triggers that keep the search index (FTS5 trigram) and `task_tag` in
   step with `tasks`: the same INSERT with and without them, on the schema of head.

Figures are CPU microseconds per call, medians of interleaved rounds.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi import Path as PathParameter

from bench.inprocess import Call, Client

ROUNDS = 5
CALLS = 3_000
INSERTS = 3_000
UserId = Annotated[str, PathParameter(max_length=128, pattern="^[^/]+$")]


def dependency_graphs() -> FastAPI:
    """Three routes that differ only in how their values are resolved."""
    app = FastAPI()

    async def current_user(request: Request) -> str:
        return "user"

    async def owner(user_id: UserId, user: Annotated[str, Depends(current_user)]) -> str:
        return user_id

    async def store(request: Request) -> int:
        return 1

    async def query(request: Request, _owner: Annotated[str, Depends(owner)]) -> int:
        return 2

    async def everything(request: Request, user_id: UserId) -> tuple[str, int, int]:
        return user_id, 1, 2

    @app.get("/graph/{user_id}")
    async def graph(
        owner_id: Annotated[str, Depends(owner)],
        store_id: Annotated[int, Depends(store)],
        query_id: Annotated[int, Depends(query)],
    ) -> Response:
        return Response(b"[]")

    @app.get("/one/{user_id}")
    async def one(values: Annotated[tuple[str, int, int], Depends(everything)]) -> Response:
        return Response(b"[]")

    @app.get("/none/{user_id}")
    async def none(user_id: str) -> Response:
        return Response(b"[]")

    return app


async def _time_routes(app: FastAPI, paths: list[str]) -> dict[str, list[float]]:
    client = Client(app, "unused")
    figures: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(ROUNDS):
        for path in paths:
            for _ in range(CALLS // 10):
                await client(Call("GET", path))
            gc.collect()
            started = time.process_time()
            for _ in range(CALLS):
                await client(Call("GET", path))
            figures[path].append((time.process_time() - started) / CALLS * 1e6)
    return figures


def _insert(connection: sqlite3.Connection, number: int) -> None:
    stamp = "2026-12-06 10:00:00.000000"
    connection.execute(
        "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at, "
        "priority, tags, title_folded, description_folded) "
        "VALUES ('bench', ?, 'Created under load', 0, ?, ?, 2, '[]', ?, 'created under load')",
        (f"Bench task {number}", stamp, stamp, f"bench task {number}"),
    )


def _time_inserts(connection: sqlite3.Connection) -> float:
    started = time.process_time()
    for number in range(INSERTS):
        _insert(connection, number)
    return (time.process_time() - started) / INSERTS * 1e6


def sqlite_insert_costs(scratch: Path, upgrade: Callable[[str], Any]) -> dict[str, list[float]]:
    """One INSERT with the schema's triggers, and without them, on two files of head."""
    figures: dict[str, list[float]] = {"with triggers": [], "without triggers": []}
    connections = {}
    for name in figures:
        path = scratch / f"{name.replace(' ', '-')}.sqlite3"
        upgrade(f"sqlite:///{path}")
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        if name == "without triggers":
            triggers = connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            for (trigger,) in triggers.fetchall():
                connection.execute(f'DROP TRIGGER "{trigger}"')
        connections[name] = connection
    for _ in range(ROUNDS):
        for name, connection in connections.items():
            figures[name].append(_time_inserts(connection))
    for connection in connections.values():
        connection.close()
    return figures


def _line(label: str, values: list[float]) -> str:
    return (
        f"- {label}: median {statistics.median(values):.0f} us "
        f"(rounds {min(values):.0f} to {max(values):.0f})"
    )


def main() -> int:
    from backend.storage.schema import upgrade_to_head

    routes = asyncio.run(
        _time_routes(dependency_graphs(), ["/graph/user", "/one/user", "/none/user"])
    )
    print(f"FastAPI, CPU per request in process ({ROUNDS} rounds of {CALLS:,}):")
    print(
        _line(
            "the API's dependency graph (owner <- token, store, query <- owner)",
            routes["/graph/user"],
        )
    )
    print(_line("one dependency returning the same values", routes["/one/user"]))
    print(_line("no dependency, one path parameter", routes["/none/user"]))
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as scratch:
        inserts = sqlite_insert_costs(Path(scratch), upgrade_to_head)
    print(f"\nSQLite, CPU per INSERT of a task ({ROUNDS} rounds of {INSERTS:,}):")
    for name, values in inserts.items():
        print(_line(name, values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
