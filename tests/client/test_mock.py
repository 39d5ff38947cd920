"""`make mock` stands in for the API: Prism on the committed openapi/openapi.json.

The client's calls (clients/typescript/scenario/calls.ts) get answers the contract allows
from the mock and from the server alike, and every example of a response in the document
is served as written when asked for by name (`Prefer: code=..., example=...`). The mock
keeps no state and makes its values up, so answers are compared by their validity, never
by their values.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from backend.auth.tokens import mint_token
from tests.conftest import SECRET, new_owner
from tests.support.contract import (
    CONTRACT_PATH,
    ResponseExample,
    documented_value,
    load_contract,
    parameters,
    resolve,
    response_examples,
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


# --- the document's examples, served by name ----------------------------------------------


def example_request(
    example: ResponseExample, contract: dict[str, Any], base_url: str
) -> httpx.Request:
    """A valid request to the example's operation (with a bearer token) that asks the mock
    for the example by status and name; values from the document's examples where it has
    them."""
    operation = example.operation
    path = operation.path
    query: dict[str, str] = {}
    headers = {
        "Authorization": "Bearer any-token",
        "Accept": example.media_type,
        "Prefer": f"code={example.status}, example={example.name}",
    }
    for parameter in parameters(operation, contract):
        value = str(documented_value(parameter, contract))
        name = parameter["name"]
        if parameter["in"] == "path":
            path = path.replace(f"{{{name}}}", quote(value, safe=""))
        elif parameter.get("required", False) and parameter["in"] == "query":
            query[name] = value
        elif parameter.get("required", False) and parameter["in"] == "header":
            headers[name] = value
    body: Any = None
    request_body = resolve(operation.declaration.get("requestBody", {}), contract)
    if request_body.get("required", False):
        media_type, declaration = next(iter(request_body["content"].items()))
        body = documented_value(declaration, contract)
        headers["Content-Type"] = media_type
    return httpx.Request(
        operation.method.upper(),
        f"{base_url}{path}",
        params=query,
        headers=headers,
        content=None if body is None else json.dumps(body),
    )


def served_otherwise(
    mock: MockServer, examples: list[ResponseExample], contract: dict[str, Any]
) -> list[str]:
    """Each example the mock, asked for it by name, answered with something else."""
    differences = []
    with httpx.Client(timeout=10) as client:
        for example in examples:
            where = f"{example.operation.operation_id} {example.status} {example.name}"
            response = client.send(example_request(example, contract, mock.base_url))
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            if (response.status_code, media_type) != (int(example.status), example.media_type):
                differences.append(f"{where}: answered {response.status_code} {media_type}")
            elif response.json() != example.value:
                differences.append(f"{where}: answered {response.text}")
    return differences


def test_every_response_example_of_the_contract_is_served_as_written(mock: MockServer) -> None:
    contract = load_contract()
    examples = response_examples(contract)
    assert examples, "openapi/openapi.json names no response examples for the mock to serve"
    assert served_otherwise(mock, examples, contract) == [], mock.log_text()


def with_examples(contract: dict[str, Any]) -> dict[str, Any]:
    """A copy of the contract with named examples on getTask's 200 and 404."""
    edited = copy.deepcopy(contract)
    responses = edited["paths"]["/api/{user_id}/tasks/{task_id}"]["get"]["responses"]
    task = {
        "id": 7,
        "user_id": "alice",
        "title": "Buy milk",
        "description": None,
        "completed": False,
        "due_date": "2026-12-24",
        "priority": "medium",
        "tags": ["shop"],
        "created_at": "2026-12-01T09:30:00Z",
        "updated_at": "2026-12-01T09:30:00Z",
        "due_time": None,
        "time_zone": "UTC",
        "due_at": None,
        "recurrence": None,
        "next_occurrence_id": None,
        "remind_before_minutes": None,
        "remind_at": None,
    }
    done = {**task, "id": 8, "title": "Call mum", "completed": True, "tags": []}
    gone = {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no task with id 7 for this user",
        "instance": "/api/alice/tasks/7",
    }
    responses["200"]["content"]["application/json"]["examples"] = {
        "pending": {"summary": "A task to do", "value": task},
        "done": {"summary": "A completed task", "value": done},
    }
    responses["404"]["content"]["application/problem+json"]["examples"] = {"gone": {"value": gone}}
    return edited


def test_the_mock_serves_the_example_prefer_names(tmp_path: Path) -> None:
    # Develops and guards the check above on a document that surely has examples.
    contract = with_examples(load_contract())
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(contract), encoding="utf-8")
    # The scratch examples only: the document's own are served by the test above.
    examples = [e for e in response_examples(contract) if e.name in {"pending", "done", "gone"}]
    assert len(examples) == 3
    for example in examples:
        assert (
            answer_problems(
                Answer(
                    "GET",
                    "/api/alice/tasks/7",
                    int(example.status),
                    {"content-type": example.media_type},
                    example.value,
                ),
                contract,
            )
            == []
        ), f"{example.name} is not valid under the contract"

    with mock_server(document, tmp_path / "prism.log") as scratch:
        assert served_otherwise(scratch, examples, contract) == [], scratch.log_text()
        # A second example is served only when named; the first is the default.
        done = next(example for example in examples if example.name == "done")
        pending = next(example for example in examples if example.name == "pending")
        mislabelled = replace(done, value=pending.value)
        assert len(served_otherwise(scratch, [mislabelled], contract)) == 1
        first = httpx.get(
            f"{scratch.base_url}/api/alice/tasks/7",
            headers={"Authorization": "Bearer any-token"},
            timeout=10,
        )
        assert first.json() == pending.value
