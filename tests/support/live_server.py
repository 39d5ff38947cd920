"""A real `uvicorn backend.main:app` in a subprocess on 127.0.0.1, for tests in any folder."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from backend.storage.schema import upgrade_to_head

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
PORT_ATTEMPTS = 3
# Variables of the server's configuration that must come from the caller, never from the
# environment of the test run (a developer's DATABASE_URL must not leak into a test).
SETTINGS_VARIABLES = ("DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_JWKS_URL")


class ServerDidNotStart(RuntimeError):
    """The server exited or did not become ready in time; the message ends with its log."""


@dataclass(frozen=True)
class LiveServer:
    """A running server: where to reach it and where its stdout/stderr go."""

    base_url: str
    log_path: Path
    workers: int
    pid: int
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)
    """uvicorn's main process (the supervisor when there are several workers)."""

    def log_text(self) -> str:
        """Everything the server printed so far (uvicorn's and the app's logs)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def own_database(request: pytest.FixtureRequest, folder: Path, name: str) -> str:
    """A database of the caller's own for a live server, which migrates it: a SQLite file in
    `folder`, or a new database `name_...` on the session's PostgreSQL, as the fixture's
    parameter (`sqlite` or `postgres`) says."""
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'todo.db'}"
    postgres = request.getfixturevalue("postgres_server")
    url: str = postgres.create_database(f"{name}_{uuid.uuid4().hex[:12]}")
    return url


def free_port() -> int:
    """A port of 127.0.0.1 free now (a server started on it may still lose it: retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a server's log, for a failure message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def stop_process_group(
    process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS
) -> None:
    """SIGTERM a process started in its own session together with its children (uvicorn's
    workers, PgBouncer, Chromium's helpers); SIGKILL them if they outlive `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def _wait_until_ready(
    process: subprocess.Popen[bytes],
    base_url: str,
    log_path: Path,
    log_offset: int,
    workers: int,
    timeout: float,
) -> None:
    """Ready when every worker has logged its startup (after `log_offset`: the log may hold
    an earlier run) and the socket answers /livez."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise ServerDidNotStart(
                    f"the server exited with {process.returncode}:\n{log_tail(log_path)}"
                )
            with log_path.open("rb") as log_file:
                log_file.seek(log_offset)
                started = log_file.read().count(b"Application startup complete")
            if started >= workers:
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/livez").status_code == 200:
                        return
            if time.monotonic() > deadline:
                raise ServerDidNotStart(
                    f"the server was not ready within {timeout:g} s "
                    f"({started} of {workers} workers started):\n{log_tail(log_path)}"
                )
            time.sleep(0.1)  # a poll interval, bounded by the deadline above


@contextlib.contextmanager
def live_server(
    database_url: str,
    secret: str,
    log_path: Path,
    *,
    workers: int = 1,
    migrate: bool = True,
    access_log: bool = True,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """Serve the app on a free port of 127.0.0.1 until the block exits, then stop it.

    The schema is migrated here, once, before the workers start (they get
    MIGRATE_ON_START=false); pass `migrate=False` for a database already at head. The
    server's stdout and stderr go to `log_path` (appended to, so a restart keeps the earlier
    lines) for tests that read what it logged. `port` binds a given port (a server restarted
    where its clients expect it) instead of a free one.
    """
    if migrate:
        upgrade_to_head(database_url)
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env |= {
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": secret,
        "MIGRATE_ON_START": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(PORT_ATTEMPTS):
        bound = free_port() if port is None else port
        base_url = f"http://127.0.0.1:{bound}"
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(bound),
            "--workers",
            str(workers),
            "--timeout-graceful-shutdown",
            "5",
        ]
        if not access_log:
            argv.append("--no-access-log")
        with log_path.open("ab") as log_file:
            log_offset = log_file.tell()
            # A session of its own, so that stopping it reaches the workers too.
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_ready(process, base_url, log_path, log_offset, workers, startup_timeout)
        except ServerDidNotStart:
            stop_process_group(process)
            # Another process may have taken the free port between the probe and the bind
            # (or a given port's last server is not gone yet).
            if attempt < PORT_ATTEMPTS - 1 and "address already in use" in log_tail(log_path):
                continue
            raise
        except BaseException:
            stop_process_group(process)
            raise
        break
    try:
        yield LiveServer(
            base_url=base_url,
            log_path=log_path,
            workers=workers,
            pid=process.pid,
            process=process,
        )
    finally:
        stop_process_group(process)
