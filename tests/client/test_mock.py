"""`make mock` stands in for the API: Prism on the committed openapi/openapi.json.

The client's calls (clients/typescript/scenario/calls.ts) get answers the contract allows
from the mock and from the server alike, and every example of a response in the document
is served as written when asked for by name (`Prefer: code=..., example=...`). The mock
keeps no state and makes its values up, so answers are compared by their validity, never
by their values.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.auth import mint_token
from tests.conftest import SECRET, new_owner
from tests.support.contract import (
    CONTRACT_PATH,
    load_contract,
)
from tests.support.contract_answers import Answer, answer_problems
from tests.support.live_server import LiveServer, live_server
from tests.support.mock_server import MockServer, mock_server
from tests.support.tools import ROOT, node_binary

SCENARIO_TIMEOUT_SECONDS = 60
# What the scenario's calls are answered, by the mock and by the server alike.
SCENARIO_STATUSES = {
    "create": 201,
    "list": 200,
    "get": 200,
    "update": 200,
    "toggle": 200,
    "set completion": 200,
    "delete": 204,
    "get deleted": 404,
    "create invalid": 422,
    "list without token": 401,
}


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    log_path = tmp_path_factory.mktemp("mock") / "prism.log"
    with mock_server(CONTRACT_PATH, log_path) as running:
        yield running


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(database_url, SECRET, tmp_path / "server.log", migrate=False) as running:
        yield running


# --- the client's calls, against the mock and the server ----------------------------------


@dataclass(frozen=True)
class Called:
    """One line of the scenario: which call, and the answer the client received."""

    call: str
    answer: Answer


def run_scenario(compiled_client: Path, base_url: str, user: str, token: str) -> list[Called]:
    result = subprocess.run(
        [node_binary(), str(compiled_client / "scenario" / "calls.js")],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "TODO_API_URL": base_url,
            "TODO_API_USERS": json.dumps([{"user": user, "token": token}]),
        },
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    called = []
    for line in result.stdout.splitlines():
        printed = json.loads(line)
        answer = Answer(
            method=printed["method"],
            path=printed["path"],
            status=printed["status"],
            headers=printed["headers"],
            body=printed["body"],
        )
        called.append(Called(printed["call"], answer))
    return called


def contract_problems(called: list[Called], contract: dict[str, Any]) -> list[str]:
    return [
        f"{each.call}: {problem}"
        for each in called
        for problem in answer_problems(each.answer, contract)
    ]


def test_the_client_gets_answers_the_contract_allows_from_mock_and_server(
    compiled_client: Path, mock: MockServer, server: LiveServer
) -> None:
    contract = load_contract()
    owner = new_owner()
    # The mock asks only that a bearer token be there; the server, that it be valid.
    from_mock = run_scenario(compiled_client, mock.base_url, owner, "any-token")
    from_server = run_scenario(
        compiled_client, server.base_url, owner, mint_token(owner, SECRET.encode())
    )

    for called in (from_mock, from_server):
        assert {each.call: each.answer.status for each in called} == SCENARIO_STATUSES
    assert contract_problems(from_mock, contract) == [], mock.log_text()
    assert contract_problems(from_server, contract) == [], server.log_text()


def test_an_answer_off_the_contract_is_caught() -> None:
    # The check above would pass on anything if it looked at nothing.
    contract = load_contract()
    url = "/api/alice/tasks/1"
    task = {"id": 1, "title": "Buy milk"}
    incomplete = Answer("GET", url, 200, {"content-type": "application/json"}, task)
    undocumented = Answer("DELETE", url, 200, {}, None)
    as_text = Answer("GET", url, 404, {"content-type": "text/plain"}, "no")
    assert any("required property" in problem for problem in answer_problems(incomplete, contract))
    assert answer_problems(undocumented, contract) == [
        "deleteTask 200: a status the contract does not document"
    ]
    assert "media type 'text/plain'" in answer_problems(as_text, contract)[0]
