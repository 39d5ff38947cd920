"""The raw floor: async handlers, PyJWT, one SQL statement on the bare driver, orjson bytes out."""

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt
import orjson
import psycopg
from fastapi import FastAPI, Request, Response

COLUMNS = (
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "due_date",
    "created_at",
    "updated_at",
)
SELECT = f"SELECT {', '.join(COLUMNS)} FROM tasks"
LIST_SQL = f"{SELECT} WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
GET_SQL = f"{SELECT} WHERE id = %s AND user_id = %s"
CREATE_SQL = (
    "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at) "
    f"VALUES (%s, %s, %s, false, %s, %s) RETURNING {', '.join(COLUMNS)}"
)
POOL_SIZE = 8
JSON = "application/json"


class Store(Protocol):
    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]: ...
    async def close(self) -> None: ...


class PostgresStore:
    """A fixed set of autocommit connections handed out through a queue."""

    def __init__(self, connections: list[psycopg.AsyncConnection[Any]]) -> None:
        self._idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        for connection in connections:
            self._idle.put_nowait(connection)
        self._all = connections

    @classmethod
    async def open(cls, database_url: str) -> "PostgresStore":
        conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        connections = [
            await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            for _ in range(POOL_SIZE)
        ]
        return cls(connections)

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        connection = await self._idle.get()
        try:
            cursor = await connection.execute(sql, parameters)
            return [dict(zip(COLUMNS, row, strict=True)) for row in await cursor.fetchall()]
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()


class SqliteStore:
    """One stdlib connection used straight from the event loop: the floor, not a recommendation."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        # Timestamps are stored as UTC text `YYYY-MM-DD HH:MM:SS.ffffff` (the storage contract).
        values = [
            value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(value, datetime)
            else value
            for value in parameters
        ]
        rows = self._connection.execute(sql.replace("%s", "?"), values).fetchall()
        tasks = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        for task in tasks:
            task["completed"] = bool(task["completed"])
        return tasks

    async def close(self) -> None:
        self._connection.close()


def _problem(status: int, detail: str) -> Response:
    body = orjson.dumps({"type": "about:blank", "status": status, "detail": detail})
    return Response(body, status_code=status, media_type="application/problem+json")


def create_app() -> FastAPI:
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ["BETTER_AUTH_SECRET"]
    stores: list[Store] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if database_url.startswith("sqlite"):
            stores.append(SqliteStore(database_url.split(":///", 1)[1]))
        else:
            stores.append(await PostgresStore.open(database_url))
        yield
        await stores[0].close()

    def refusal(request: Request, user_id: str) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _problem(401, "missing bearer token")
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return _problem(401, "invalid token")
        if claims.get("sub") != user_id:
            return _problem(403, "token is for another user")
        return None

    application = FastAPI(lifespan=lifespan)

    @application.get("/api/{user_id}/tasks")
    async def list_tasks(user_id: str, request: Request, limit: int = 20) -> Response:
        if refused := refusal(request, user_id):
            return refused
        rows = await stores[0].fetch(LIST_SQL, (user_id, limit))
        return Response(orjson.dumps(rows), media_type=JSON)

    @application.get("/api/{user_id}/tasks/{task_id}")
    async def get_task(user_id: str, task_id: int, request: Request) -> Response:
        if refused := refusal(request, user_id):
            return refused
        rows = await stores[0].fetch(GET_SQL, (task_id, user_id))
        if not rows:
            return _problem(404, "no such task")
        return Response(orjson.dumps(rows[0]), media_type=JSON)

    @application.post("/api/{user_id}/tasks")
    async def create_task(user_id: str, request: Request) -> Response:
        if refused := refusal(request, user_id):
            return refused
        body = orjson.loads(await request.body())
        title, description = body.get("title"), body.get("description")
        if not isinstance(title, str) or not 1 <= len(title) <= 200:
            return _problem(422, "title must be 1..200 characters")
        now = datetime.now(UTC)
        rows = await stores[0].fetch(CREATE_SQL, (user_id, title, description, now, now))
        return Response(orjson.dumps(rows[0]), status_code=201, media_type=JSON)

    return application


app = create_app()
