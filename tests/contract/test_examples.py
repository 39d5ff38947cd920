"""The spec's examples are true: replayed in order against a live server on each database.

Each example's request is sent as written (placeholders bound from earlier responses) and
its response compared with the spec: status, the headers it names, and the body, field by
field. Every response body also validates against the contract. A mismatch fails at the
spec line of the part that differs.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, insert

from backend.auth.tokens import mint_token
from backend.queries.idempotency import fingerprint_of
from backend.storage.models import IdempotencyKeyRecord
from backend.storage.schema import upgrade_to_head
from codegen import ROOT, SPEC, Contract, build_contract
from generated.models import TaskCreate
from speclang.examples import Example
from tests.conftest import SECRET
from tests.support.contract_answers import Answer, answer_problems
from tests.support.example_replay import SPEC_PATH, ExampleMismatch, Replay
from tests.support.live_server import LiveServer, live_server
from tests.support.postgres import PostgresServer

DATABASES = ("sqlite", "postgres")


def spec_contract(text: str | None = None) -> Contract:
    return build_contract(text if text is not None else (ROOT / SPEC).read_text("utf-8"))


def fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of its own: the examples' users (alice, bob) own nothing else there."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'examples.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"examples_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    return url


@dataclass(frozen=True)
class Served:
    """A database and two servers of it: as configured by default, and requiring If-Match."""

    database_url: str
    server: LiveServer
    strict: LiveServer


@contextlib.contextmanager
def serve(url: str, folder: Path) -> Iterator[Served]:
    strict_env = {"REQUIRE_IF_MATCH": "true"}
    with (
        live_server(url, SECRET, folder / "server.log", migrate=False) as server,
        live_server(
            url, SECRET, folder / "strict.log", migrate=False, extra_env=strict_env
        ) as strict,
    ):
        yield Served(url, server, strict)


@pytest.fixture(params=DATABASES)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with serve(fresh_database(request.param, request, tmp_path), tmp_path) as running:
        yield running


def key_in_flight(database_url: str) -> Callable[[Example], None]:
    """`- Given: Idempotency-Key in flight`: the row a server writes while it processes a
    keyed create (a claim with a lease and no response yet), for the example's key and body."""
    engine = create_engine(database_url)

    def set_up(example: Example) -> None:
        if example.given != "idempotency-key in flight":
            return
        key = next(v.text for v in example.headers if v.name.lower() == "idempotency-key")
        assert example.request_body is not None and example.token is not None
        now = datetime.now(UTC)
        claim = insert(IdempotencyKeyRecord.__table__).values(  # type: ignore[attr-defined]
            user_id=example.token,
            key=key,
            fingerprint=fingerprint_of(TaskCreate.model_validate(example.request_body.value)),
            claim="0" * 32,
            claimed_until=now + timedelta(minutes=5),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        with engine.begin() as connection:
            connection.execute(claim)

    return set_up


def replay_all(contract: Contract, served: Served, upto: int | None = None) -> None:
    operations = {
        operation["operationId"]: (method, path)
        for path, methods in contract.document["paths"].items()
        for method, operation in methods.items()
    }
    with (
        httpx.Client(base_url=served.server.base_url, timeout=30) as client,
        httpx.Client(base_url=served.strict.base_url, timeout=30) as strict_client,
    ):
        replay = Replay(
            client,
            operations,
            token_for=lambda user: mint_token(user, SECRET.encode()),
            set_up=key_in_flight(served.database_url),
            strict_client=strict_client,
        )
        for example in contract.examples[:upto]:
            response = replay.run(example)
            check_against_the_contract(contract.document, example, response)


def check_against_the_contract(
    document: dict[str, Any], example: Example, response: httpx.Response
) -> None:
    """The answer keeps to the contract: status, media type, body and headers."""
    answer = Answer.of(response)
    problems = answer_problems(answer, document)
    assert problems == [], f"{SPEC_PATH}:{example.line}: example '{example.name}': {problems}"


def test_every_example_is_replayed_as_written(served: Served) -> None:
    contract = spec_contract()
    assert len(contract.examples) >= 30
    replay_all(contract, served)


def test_a_changed_field_in_an_example_fails_at_its_line(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Change the title the first created task is answered with: the replay fails there."""
    text = (ROOT / SPEC).read_text("utf-8")
    contract = spec_contract(text)
    position, example = next(
        (index, example)
        for index, example in enumerate(contract.examples)
        if example.response_body is not None and isinstance(example.response_body.value, dict)
    )
    assert example.response_body is not None
    line = example.response_body.line_of(("title",))
    lines = text.split("\n")
    title = example.response_body.value["title"]
    assert f'"{title}"' in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(f'"{title}"', '"Buy cheese"')
    changed = spec_contract("\n".join(lines))

    url = fresh_database("sqlite", request, tmp_path)
    with serve(url, tmp_path) as running, pytest.raises(ExampleMismatch) as failure:
        replay_all(changed, running, upto=position + 1)
    assert str(failure.value).startswith(f"{SPEC_PATH}:{line}: example '{example.name}': ")
    assert f"{title!r}, expected 'Buy cheese'" in str(failure.value)


def test_every_operation_has_a_success_and_each_client_error_it_declares() -> None:
    contract = spec_contract()
    client_errors = {"401", "403", "404", "409", "412", "422", "428"}
    for methods in contract.document["paths"].values():
        for operation in methods.values():
            shown = {
                str(example.status)
                for example in contract.examples
                if example.operation_id == operation["operationId"]
            }
            declared = set(operation["responses"]) & client_errors
            assert any(status.startswith("2") for status in shown), operation["operationId"]
            assert declared <= shown, (operation["operationId"], sorted(declared - shown))
