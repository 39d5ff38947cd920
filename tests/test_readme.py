"""The README's curl session works as written, against a live server on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.live_server import LiveServer, live_server

ROOT = Path(__file__).resolve().parent.parent


def curl_session() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A session with curl", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README has no curl session"
    return match.group(1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    # As `make run` does: the server itself brings the fresh SQLite file up to date.
    database_url = f"sqlite:///{tmp_path / 'todo.db'}"
    with live_server(
        database_url,
        SECRET,
        tmp_path / "server.log",
        migrate=False,
        extra_env={"MIGRATE_ON_START": "true"},
    ) as running:
        yield running


def test_the_readme_curl_session_works(server: LiveServer) -> None:
    script = curl_session().replace("http://127.0.0.1:8000", server.base_url)
    # The README runs these from the repository root with the project's .venv; here the
    # same commands run with the interpreter of this test session.
    script = script.replace(".venv/bin/python", sys.executable)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**os.environ, "BETTER_AUTH_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert '"title":"Buy milk"' in output
    assert '"description":"2 litres"' in output
    assert '"priority":"high"' in output
    assert '"tags":["shop","weekly"]' in output
    # Both lists hold the task: the filtered one too (search ignoring case, tag, dates).
    assert output.count('[{"id":1,') == 2, output
    assert '"completed":true' in output
    assert '"status":4' not in output, output
    assert output.rstrip().endswith("204")
