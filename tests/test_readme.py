"""The README's curl session works as written, against a live server on SQLite."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent
STARTUP_DEADLINE_SECONDS = 30


def curl_session() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A session with curl", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README has no curl session"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "BETTER_AUTH_SECRET": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the server did not start:\n{output}")
                time.sleep(0.1)
        yield port, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_curl_session_works(live_server: tuple[int, dict[str, str]]) -> None:
    port, env = live_server
    script = curl_session().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    # The README runs these from the repository root with the project's .venv; here the
    # same commands run with the interpreter of this test session.
    script = script.replace(".venv/bin/python", sys.executable)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert '"title":"Buy milk"' in output
    assert '"description":"2 litres"' in output
    assert '"completed":true' in output
    assert '"status":4' not in output, output
    assert output.rstrip().endswith("204")
