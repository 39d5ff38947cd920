"""`python -m bench.inprocess`: the server's CPU time per request of each operation, no network.

wrk's figures move by several percent from one run to the next on a shared machine. This
measures the server's own work instead: sequential requests handed straight to the ASGI app
of a checkout (this one, or each `--tree`, such as a `git worktree` of an older revision),
with nothing between them but a minimal ASGI call, on SQLite in a temporary file or on a
PostgreSQL database (`--postgres URL`, one new database per run). Each run is its own
process, the trees are interleaved run by run, and the medians are printed.

The measured operations are those of the contract the tree serves: `list filtered` needs
the tags and words of contract 1.1.0, `create+key` the Idempotency-Key of 1.2.0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-inprocess-secret-of-at-least-32-bytes"
USER = "bench-user"
SEEDED_TASKS = 100
OPERATIONS = (
    "list",
    "list filtered",
    "get",
    "create",
    "create+key",
    "update",
    "toggle",
    "delete",
)
# The filtered list: a tag on a third of the tasks and a word in half of the titles, so the
# list reads a window of the owner's range and checks both filters row by row.
FILTERED_QUERY = "limit=20&tag=work&q=report"

ASGIApp = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    key: str | None = None


class Client:
    """Calls an ASGI app directly: a scope, one body message, the response collected."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.headers = [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    async def __call__(self, call: Call) -> tuple[int, bytes]:
        headers = list(self.headers)
        if call.body:
            headers.append((b"content-type", b"application/json"))
            headers.append((b"content-length", str(len(call.body)).encode()))
        if call.key is not None:
            headers.append((b"idempotency-key", call.key.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": call.method,
            "scheme": "http",
            "path": call.path,
            "raw_path": call.path.encode(),
            "query_string": call.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no disconnect while the app answers
            sent = True
            return {"type": "http.request", "body": call.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def _seed_body(number: int, filters: bool) -> bytes:
    task: dict[str, Any] = {
        "title": f"Bench task {number}" + (" report" if number % 2 == 0 else ""),
        "description": "Seeded for the in-process benchmark",
    }
    if filters:
        task["tags"] = ["work", "home"] if number % 3 == 0 else ["home"]
    return json.dumps(task).encode()


def _calls(operation: str, base: str, ids: Sequence[int], count: int) -> Iterator[Call]:
    body = json.dumps({"title": "Bench task", "description": "Created in process"}).encode()
    for number in range(count):
        task = ids[number % len(ids)]
        if operation == "list":
            yield Call("GET", base, "limit=20")
        elif operation == "list filtered":
            yield Call("GET", base, FILTERED_QUERY)
        elif operation == "get":
            yield Call("GET", f"{base}/{task}")
        elif operation == "create":
            yield Call("POST", base, body=body)
        elif operation == "create+key":
            yield Call("POST", base, body=body, key=f"bench-{time.monotonic_ns()}-{number}")
        elif operation == "update":
            yield Call("PUT", f"{base}/{task}", body=f'{{"title": "Renamed {number}"}}'.encode())
        elif operation == "toggle":
            yield Call("PATCH", f"{base}/{task}/complete")
        elif operation == "delete":
            yield Call("DELETE", f"{base}/{ids[number]}")
        else:
            raise ValueError(operation)


EXPECTED_STATUS = {"create": 201, "create+key": 201, "delete": 204}


async def _create(client: Client, base: str, count: int, filters: bool) -> list[int]:
    ids = []
    for number in range(count):
        status, payload = await client(Call("POST", base, body=_seed_body(number, filters)))
        if status != 201:
            raise SystemExit(f"seeding answered {status}: {payload[:200]!r}")
        ids.append(json.loads(payload)["id"])
    return ids


async def measure(
    database_url: str, operations: Sequence[str], requests: int, warmup: int
) -> dict[str, float]:
    """CPU microseconds per request of each operation, past its warm-up."""
    import jwt

    from backend.main import create_app
    from backend.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=True,
    )
    app = create_app(settings)
    token = jwt.encode({"sub": USER, "exp": int(time.time()) + 3600}, SECRET, "HS256")
    client = Client(app, token)
    base = f"/api/{USER}/tasks"
    filters = "list filtered" in operations
    figures: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        seeded = await _create(client, base, SEEDED_TASKS, filters)
        for operation in operations:
            ids = seeded
            if operation == "delete":
                ids = await _create(client, base, warmup + requests, filters)
            calls = list(_calls(operation, base, ids, warmup + requests))
            expected = EXPECTED_STATUS.get(operation, 200)
            gc.collect()
            started = 0.0
            for number, call in enumerate(calls):
                if number == warmup:
                    started = time.process_time()
                status, payload = await client(call)
                if status != expected:
                    raise SystemExit(f"{operation} answered {status}: {payload[:200]!r}")
            figures[operation] = (time.process_time() - started) / requests * 1e6
    return figures


def supported_operations(tree: Path) -> list[str]:
    """The operations of OPERATIONS that the contract committed in `tree` has."""
    document = json.loads((tree / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    text = json.dumps(document)
    supported = []
    for operation in OPERATIONS:
        if operation == "list filtered" and '"name": "q"' not in text:
            continue
        if operation == "create+key" and '"name": "Idempotency-Key"' not in text:
            continue
        supported.append(operation)
    return supported


def run_child(
    tree: Path,
    database_url: str,
    operations: Sequence[str],
    requests: int,
    warmup: int,
) -> dict[str, float]:
    """One measurement in a new process that imports the tree's own `backend`."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        database_url,
        "--requests",
        str(requests),
        "--warmup",
        str(warmup),
        *(f"--operation={operation}" for operation in operations),
    ]
    # One hash seed for every run: with a random one, each process lays its dicts and sets
    # out differently, a cost that differs by run and not by tree.
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {(result.stdout + result.stderr).strip()[-2000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


class Databases:
    """A new database for every run: a SQLite file, or one on the PostgreSQL server given."""

    def __init__(self, scratch: Path, postgres_url: str | None) -> None:
        self.scratch = scratch
        self.postgres_url = postgres_url
        self.count = 0
        self.previous: str | None = None

    def new(self, kind: str) -> str:
        self.count += 1
        if kind == "sqlite":
            return f"sqlite:///{self.scratch}/run-{self.count}.sqlite3"
        import psycopg
        from sqlalchemy.engine import make_url

        if self.postgres_url is None:
            raise ValueError("no PostgreSQL server")
        url = make_url(self.postgres_url)
        name = f"bench_run_{os.getpid()}_{self.count}"
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            # The previous run's database goes, and its dirty pages are written now rather
            # than by the checkpointer during the next run, on the cores it measures.
            if self.previous is not None:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.previous}" WITH (FORCE)')
            connection.execute("CHECKPOINT")
            connection.execute(f'CREATE DATABASE "{name}"')
        self.previous = name
        return url.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="runs per tree (default 5)")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per op")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--operation", action="append", choices=OPERATIONS, help="repeatable")
    parser.add_argument("--postgres", metavar="URL", help="measure on this server, not SQLite")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        figures = asyncio.run(
            measure(arguments.child, arguments.operation, arguments.requests, arguments.warmup)
        )
        print(json.dumps(figures))
        return 0
    trees = [tree.resolve() for tree in arguments.tree or [REPO_ROOT]]
    kind = "postgres" if arguments.postgres else "sqlite"
    results: dict[Path, dict[str, list[float]]] = {tree: {} for tree in trees}
    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as scratch:
        databases = Databases(Path(scratch), arguments.postgres)
        for run in range(1, arguments.runs + 1):
            for tree in trees:
                operations = [
                    operation
                    for operation in supported_operations(tree)
                    if not arguments.operation or operation in arguments.operation
                ]
                figures = run_child(
                    tree, databases.new(kind), operations, arguments.requests, arguments.warmup
                )
                for operation, value in figures.items():
                    results[tree].setdefault(operation, []).append(value)
                line = ", ".join(f"{name} {value:.0f}" for name, value in figures.items())
                print(f"run {run}/{arguments.runs} {tree}: {line} (us)", flush=True)
    print(f"\nCPU per request on {kind}, medians of {arguments.runs} runs (us):")
    for tree, per_operation in results.items():
        line = ", ".join(
            f"{name} {statistics.median(values):.0f}" for name, values in per_operation.items()
        )
        print(f"- {tree}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
