"""The README's curl session works as written, against a live server on SQLite."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from codegen import SPEC, build_contract
from speclang.examples import PLACEHOLDER, Example
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


def curl_requests(script: str) -> list[tuple[str, str, dict[str, str], object]]:
    """Each curl command of the session as (method, URL path and query, headers, body)."""
    commands = script.replace("\\\n", " ").splitlines()
    found: list[tuple[str, str, dict[str, str], object]] = []
    for command in commands:
        words = shlex.split(command)
        if not words or words[0] != "curl":
            continue
        method, url, headers, body = "GET", "", {}, None
        for flag, value in zip(words, [*words[1:], ""], strict=True):
            if flag == "-X":
                method = value
            elif flag == "-H":
                name, _, header = value.partition(":")
                headers[name.strip()] = header.strip()
            elif flag == "-d":
                body = json.loads(value)
            elif flag.startswith("$API"):
                url = flag.replace("$API", "/api/alice/tasks")
        found.append((method, url, headers, body))
    return found


def written_as(template: str, text: str) -> bool:
    """Whether `text` reads as the example's `template`, any value standing for a placeholder."""
    parts = PLACEHOLDER.split(template)
    pattern = "".join(re.escape(part) if i % 2 == 0 else "[^/?&]+" for i, part in enumerate(parts))
    return re.fullmatch(pattern, text) is not None


def example_url(example: Example, operations: dict[str, tuple[str, str]]) -> tuple[str, str]:
    method, path = operations[example.operation_id]
    for value in example.path:
        path = path.replace("{" + value.name + "}", value.text)
    query = urlencode([(value.name, value.text) for value in example.query], safe="{}")
    return method.upper(), path + ("?" + query if query else "")


def test_every_curl_request_of_the_readme_is_an_example_of_the_spec() -> None:
    """The session is the spec's examples written for curl: each request, with its query,
    its Idempotency-Key and its body, is the request of a spec example."""
    contract = build_contract((ROOT / SPEC).read_text("utf-8"))
    operations = {
        operation["operationId"]: (method, path)
        for path, methods in contract.document["paths"].items()
        for method, operation in methods.items()
    }
    requests = curl_requests(curl_session()) + curl_requests(error_session())
    assert len(requests) >= 9
    for method, url, headers, body in requests:
        matches = [
            example.name
            for example in contract.examples
            if example_url(example, operations)[0] == method
            and written_as(example_url(example, operations)[1], url)
            and {v.name: v.text for v in example.headers}
            == {name: value for name, value in headers.items() if name == "Idempotency-Key"}
            and (example.request_body.value if example.request_body else None) == body
            and example.token == "alice"
        ]
        assert matches, f"no example of specs/api/rest-endpoints.md sends {method} {url} {body}"


def test_the_readmes_error_answer_is_an_example_of_the_spec() -> None:
    answers = [
        json.loads(line.removeprefix("# "))
        for line in error_session().splitlines()
        if line.startswith("# {")
    ]
    contract = build_contract((ROOT / SPEC).read_text("utf-8"))
    bodies = [e.response_body.value for e in contract.examples if e.response_body is not None]
    assert answers
    for answer in answers:
        assert any(
            isinstance(body, dict)
            and body.keys() == answer.keys()
            and all(written_as(str(body[key]), str(answer[key])) for key in body)
            for body in bodies
        ), answer


def error_session() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A session with curl", 1)[1]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 2, "the README shows no error answer after its curl session"
    return str(blocks[1])
