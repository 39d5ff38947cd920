"""SIGTERM's edges, on a real uvicorn: the log is JSON to its last line.

SQLite is enough here: neither depends on the database, and so these run everywhere.
"""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.production.workers import DOCUMENTED_ENV, json_and_text_lines
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

EXIT_TIMEOUT_SECONDS = 30.0
# With the docs' command (`--log-config uvicorn_json_logging.json`), no line stays text.
TEXT_LINES: tuple[str, ...] = ()
# What uvicorn's main process writes with two workers, start to end, in order.
SUPERVISOR_MESSAGES = (
    r"Uvicorn running on http://127\.0\.0\.1:\d+ \(Press CTRL\+C to quit\)",
    r"Started parent process \[\d+\]",
    r"Received SIGTERM, exiting\.",
    r"Terminated child process \[\d+\]",
    r"Terminated child process \[\d+\]",
    r"Waiting for child process \[\d+\]",
    r"Waiting for child process \[\d+\]",
    r"Stopping parent process \[\d+\]",
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'todo.db'}"


def port_of(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def test_the_documented_command_logs_json_to_the_last_line_of_a_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    with live_server(
        database_url,
        SECRET,
        tmp_path / "server.log",
        workers=2,
        access_log=False,
        extra_env=DOCUMENTED_ENV,
    ) as server:
        with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as client:
            client.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        os.kill(server.pid, signal.SIGTERM)  # to the main process, as an orchestrator does
        exit_code = server.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        log_text = server.log_text()
    assert exit_code == 0, log_text[-2000:]
    entries, text_lines = json_and_text_lines(log_text)
    assert text_lines == list(TEXT_LINES)
    # The main process's lines are among the JSON ones, its shutdown included.
    supervisor = [entry["message"] for entry in entries if entry["pid"] == server.pid]
    assert len(supervisor) == len(SUPERVISOR_MESSAGES), supervisor
    for message, pattern in zip(supervisor, SUPERVISOR_MESSAGES, strict=True):
        assert re.fullmatch(pattern, message), (message, pattern)
    assert {entry["logger"] for entry in entries if entry["pid"] == server.pid} == {"uvicorn.error"}
    # The workers' lines are JSON as before: each started, and each finished.
    workers = {entry["pid"] for entry in entries} - {server.pid}
    finished = [entry for entry in entries if entry["message"].startswith("Finished server")]
    assert {entry["pid"] for entry in finished} == workers
    assert len(workers) == 2
