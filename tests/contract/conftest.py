"""Contract fuzzing fixtures: the committed contract, the two targets, and the run figures.

The contract is `openapi/openapi.json` as committed, never the schema the app serves: the
fuzzer holds the server to the document the front end consumes.

Two profiles:
- CI (default): a fixed seed and a few examples per operation, so the suite takes minutes.
- Long run (`FUZZ_EXAMPLES=N`, see `make fuzz`): N fuzzing examples per operation, a fresh
  seed printed with the figures, and a per-operation table at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.python import asgi
from starlette.types import Receive, Scope, Send

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET
from tests.support.fuzz_figures import FIGURES

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT = REPO_ROOT / "openapi" / "openapi.json"

CI_SEED = 20261124
CI_EXAMPLES = 100
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
LONG_RUN = FUZZ_EXAMPLES > 0
# The long run draws a fresh seed (or replays FUZZ_SEED) and prints it with the figures.
SEED = int(os.environ.get("FUZZ_SEED") or secrets.randbits(32)) if LONG_RUN else CI_SEED
STATEFUL_SCENARIOS = FUZZ_EXAMPLES // 10 if LONG_RUN else 15
STATEFUL_STEPS = 20 if LONG_RUN else 8
# The calendar's ends, east and west of UTC, drawn as often as any other value: the first and
# last days, the years before 1000 (four digits, zero-padded), and moments whose offset puts
# them outside the years 1 to 9999 in UTC.
EDGE_DAYS = ("0001-01-01", "0001-01-02", "0362-06-25", "0999-12-31", "9999-12-30", "9999-12-31")
EDGE_MOMENTS = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "0999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-00:01",
    "9999-12-31T23:59:59-14:00",
)
OFFSETS = [UTC, *(timezone(timedelta(minutes=m)) for m in (-14 * 60, -1, 1, 14 * 60))]
schemathesis.openapi.format("date", st.sampled_from(EDGE_DAYS) | st.dates().map(date.isoformat))
schemathesis.openapi.format(
    "date-time",
    st.sampled_from(EDGE_MOMENTS)
    | st.datetimes(timezones=st.sampled_from(OFFSETS)).map(datetime.isoformat),
)
SERVER_START_SECONDS = 30.0
SERVER_STOP_SECONDS = 10.0


def contract_config(*, stateful: bool = False) -> schemathesis.Config:
    """Every check, positive and negative data, the examples, coverage and fuzzing phases."""
    examples = FUZZ_EXAMPLES if LONG_RUN else CI_EXAMPLES
    settings: dict[str, Any] = {
        "generation": {
            "mode": "all",
            "max-examples": examples,
            # No example database: a run depends on its seed alone, not on earlier runs.
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            # The contract's links only: links schemathesis infers from list responses draw
            # from strategies that depend on what the shared database held at the time, and
            # Hypothesis stops such runs (FlakyStrategyDefinition; see docs/FUZZING.md).
            "stateful": {
                "enabled": stateful,
                "max-steps": STATEFUL_STEPS,
                "inference": {"algorithms": []},
            },
        },
        "checks": {"enabled": True},
    }
    settings["seed"] = SEED
    return schemathesis.Config.from_dict(settings)


def stateful_settings() -> hypothesis.settings:
    """Scenarios of the stateful run: derandomized in CI, fresh in the long run."""
    return hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_STEPS,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


def load_contract(*, stateful: bool = False) -> Any:
    """A fresh schema object per use: each carries its own target and auth provider."""
    return schemathesis.openapi.from_path(CONTRACT, config=contract_config(stateful=stateful))


def in_process(schema: Any) -> Any:
    """Send the schema's cases in-process, the requests the checks make of their own included."""
    schema.app = IN_PROCESS
    return schema


# --- targets -----------------------------------------------------------------------------


class InProcessTarget:
    """The ASGI app of the in-process schema: it forwards to the app of the current database.

    Schemathesis binds a schema's operations to one app when the tests are collected, before
    any database exists; the fixtures point this target at the right app for each test.
    Each app's own lifespan runs on its first request and ends when schemathesis shuts this
    target down, all in schemathesis' event loop thread.
    """

    def __init__(self) -> None:
        self.current: FastAPI | None = None
        self._started: set[int] = set()
        self._lifespans = contextlib.AsyncExitStack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        app = self.current
        if app is None:
            raise RuntimeError("no app selected: use the `in_process_app` fixture")
        if id(app) not in self._started:
            self._started.add(id(app))
            await self._lifespans.enter_async_context(app.router.lifespan_context(app))
        await app(scope, receive, send)

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._lifespans.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


IN_PROCESS = InProcessTarget()


@pytest.fixture(scope="session")
def asgi_apps() -> Iterator[dict[str, FastAPI]]:
    """One app per database for the session; their lifespans end with the session."""
    apps: dict[str, FastAPI] = {}
    yield apps
    asgi.shutdown_lifespans()


@pytest.fixture
def in_process_app(database_url: str, asgi_apps: dict[str, FastAPI]) -> FastAPI:
    """The app of this test's database, selected as the in-process target."""
    if database_url not in asgi_apps:
        settings = Settings(
            database_url=database_url,
            better_auth_secret=SECRET,
            migrate_on_start=False,
            _env_file=None,
        )
        asgi_apps[database_url] = create_app(settings)
    IN_PROCESS.current = asgi_apps[database_url]
    return IN_PROCESS.current


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """One `uvicorn backend.main:app` process on 127.0.0.1, configured by environment."""

    database_url: str
    log_path: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "BETTER_AUTH_SECRET": SECRET,
            "MIGRATE_ON_START": "false",
        }
        argv = [sys.executable, "-m", "uvicorn", "backend.main:app"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.log_path.read_text()}")
            try:
                # Any answer from a route of the contract means the app is serving.
                response = httpx.get(f"{self.url}/api/probe/tasks", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)  # polling interval, bounded by the deadline above
                continue
            if response.status_code == 401:
                return
            raise RuntimeError(f"unexpected readiness answer {response.status_code}")
        self.stop()
        raise RuntimeError(f"uvicorn not ready after {SERVER_START_SECONDS}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=SERVER_STOP_SECONDS)


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    """One uvicorn per database, started on first use and stopped at the end of the session."""
    servers: dict[str, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def live_server(
    database_url: str,
    live_servers: dict[str, LiveServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> LiveServer:
    server = live_servers.get(database_url)
    if server is None:
        log_path = tmp_path_factory.mktemp("uvicorn") / "server.log"
        server = LiveServer(database_url, log_path)
        server.start()
        live_servers[database_url] = server
    return server


# --- figures -----------------------------------------------------------------------------

FIGURES.profile = (
    f"long run, {FUZZ_EXAMPLES} examples" if LONG_RUN else "CI profile"
) + f", seed {SEED}"


def database_of(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params.get("database_url", "?"))
