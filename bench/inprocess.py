"""`python -m bench.inprocess`: the server's CPU time per request of each operation, no network.

wrk's figures move by several percent from one run to the next on a shared machine. This
measures the server's own work instead: sequential requests handed straight to the ASGI app
of a checkout (this one, or each `--tree`, such as a `git worktree` of an older revision),
with nothing between them but a minimal ASGI call, on SQLite in a temporary file or on a
PostgreSQL database (`--postgres URL`, one new database per run). Each run is its own
process, the trees are interleaved run by run, and the medians are printed. A process can
also serve batches on demand (`serve`, `Served`), for bench.paired to measure two trees side
by side.

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
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

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


def _app(database_url: str) -> tuple[FastAPI, Client]:
    """The tree's app on `database_url`, migrated on start, and a client with a valid token."""
    import jwt

    from backend.main import create_app
    from backend.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=True,
        # The relay works beside the requests (releases before 1.6.0 ignore the setting): its
        # CPU would land on whichever request it interleaves with. What a write costs for its
        # event, the trigger's row, is measured; the relay's rounds are not requests.
        webhook_relay=False,
    )
    app = create_app(settings)
    token = jwt.encode({"sub": USER, "exp": int(time.time()) + 3600}, SECRET, "HS256")
    return app, Client(app, token)


async def _timed(client: Client, operation: str, calls: Sequence[Call]) -> list[float]:
    """The CPU seconds of each call, each answered with the operation's success status."""
    expected = EXPECTED_STATUS.get(operation, 200)
    seconds = []
    for call in calls:
        started = time.process_time()
        status, payload = await client(call)
        seconds.append(time.process_time() - started)
        if status != expected:
            raise SystemExit(f"{operation} answered {status}: {payload[:200]!r}")
    return seconds


async def measure(
    database_url: str, operations: Sequence[str], requests: int, warmup: int
) -> dict[str, float]:
    """CPU microseconds per request of each operation, past its warm-up."""
    app, client = _app(database_url)
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
            gc.collect()
            await _timed(client, operation, calls[:warmup])
            seconds = await _timed(client, operation, calls[warmup:])
            figures[operation] = sum(seconds) / requests * 1e6
    return figures


async def serve(database_url: str, operations: Sequence[str]) -> None:
    """Batches of requests on demand, for a parent that measures two trees side by side.

    Each line on stdin asks for one batch, `{"operation": "get", "requests": 40}`; each answer
    on stdout is one line, `{"seconds": [0.00031, ...]}`, the CPU time in this process of
    each request of the batch. The first line out, `{"ready": true}`, says the app is up
    and its tasks seeded. A delete batch first creates, unmeasured, the tasks it deletes.
    Before each batch, garbage is collected and what survives frozen, so a collection is
    cheap and never falls on one tree's batch for work another batch left.
    """
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the answers
    app, client = _app(database_url)
    base = f"/api/{USER}/tasks"
    filters = "list filtered" in operations
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with app.router.lifespan_context(app):
        seeded = await _create(client, base, SEEDED_TASKS, filters)
        replies.write(json.dumps({"ready": True}) + "\n")
        while line := await reader.readline():
            command = json.loads(line)
            operation, requests = str(command["operation"]), int(command["requests"])
            ids = seeded
            if operation == "delete":
                ids = await _create(client, base, requests, filters)
            calls = list(_calls(operation, base, ids, requests))
            gc.collect()
            gc.freeze()
            seconds = await _timed(client, operation, calls)
            replies.write(json.dumps({"seconds": seconds}) + "\n")


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


def _child_command(tree: Path, database_url: str, mode: str) -> tuple[list[str], dict[str, str]]:
    """This file run in a new process that imports the tree's own `backend`.

    The driver is this file whichever the tree, so both trees are measured by the same code;
    only the app differs. One hash seed for every process: with a random one, each process
    lays its dicts and sets out differently, a cost that differs by process and not by tree.
    """
    command = [sys.executable, str(Path(__file__).resolve()), mode, database_url]
    return command, {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}


def run_child(
    tree: Path,
    database_url: str,
    operations: Sequence[str],
    requests: int,
    warmup: int,
) -> dict[str, float]:
    """One measurement in a new process that imports the tree's own `backend`."""
    command, env = _child_command(tree, database_url, "--child")
    command += ["--requests", str(requests), "--warmup", str(warmup)]
    command += [f"--operation={operation}" for operation in operations]
    result = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {(result.stdout + result.stderr).strip()[-2000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


class ChildFailed(Exception):
    """A serving process stopped or answered out of turn; says what it wrote last."""


class Served:
    """A tree's app in a process of its own (`serve`), measuring one batch when asked.

    Start every process first, then `ready` each: they migrate and seed at the same time.
    """

    def __init__(
        self,
        tree: Path,
        database_url: str,
        operations: Sequence[str],
        log: Path,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        command, env = _child_command(tree, database_url, "--serve")
        env |= environment or {}
        command += [f"--operation={operation}" for operation in operations]
        self.tree = tree
        self.log = log
        self._log_file: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None  # Popen was given stdout=PIPE
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            tail = self.log.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            raise ChildFailed(f"{self.tree} stopped ({self.process.returncode}): {tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ready(self) -> None:
        """Waits until the app is up and its tasks seeded."""
        if not self._answer().get("ready"):
            raise ChildFailed(f"{self.tree} did not say it was ready")

    def batch(self, operation: str, requests: int) -> list[float]:
        """The CPU seconds of each of `requests` requests of `operation` in that process."""
        assert self.process.stdin is not None  # Popen was given stdin=PIPE
        self.process.stdin.write(json.dumps({"operation": operation, "requests": requests}))
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return [float(seconds) for seconds in self._answer()["seconds"]]

    def close(self) -> None:
        """Ends the process (end of its input: the app shuts down) and waits for it."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log_file.close()


class Databases:
    """New databases for every run: SQLite files, or databases on the PostgreSQL server given."""

    def __init__(self, scratch: Path, postgres_url: str | None) -> None:
        self.scratch = scratch
        self.postgres_url = postgres_url
        self.count = 0
        self.previous: list[str] = []

    def new(self, kind: str) -> str:
        """One new database, the previous run's gone."""
        return self.fresh(kind, 1)[0]

    def fresh(self, kind: str, count: int) -> list[str]:
        """`count` new databases at once (one per tree measured side by side)."""
        first = self.count + 1
        self.count += count
        numbers = range(first, self.count + 1)
        if kind == "sqlite":
            return [f"sqlite:///{self.scratch}/run-{number}.sqlite3" for number in numbers]
        import psycopg
        from sqlalchemy.engine import make_url

        if self.postgres_url is None:
            raise ValueError("no PostgreSQL server")
        url = make_url(self.postgres_url)
        names = [f"bench_run_{os.getpid()}_{number}" for number in numbers]
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            # The previous run's databases go, and their dirty pages are written now rather
            # than by the checkpointer during the next run, on the cores it measures.
            for previous in self.previous:
                connection.execute(f'DROP DATABASE IF EXISTS "{previous}" WITH (FORCE)')
            connection.execute("CHECKPOINT")
            for name in names:
                connection.execute(f'CREATE DATABASE "{name}"')
        self.previous = names
        return [url.set(database=name).render_as_string(hide_password=False) for name in names]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="runs per tree (default 5)")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per op")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--operation", action="append", choices=OPERATIONS, help="repeatable")
    parser.add_argument("--postgres", metavar="URL", help="measure on this server, not SQLite")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve:
        asyncio.run(serve(arguments.serve, arguments.operation))
        return 0
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
