"""A 1.0.0 client against this server: the released 1.0.0 contract, fuzzed in-process with
every check, still holds on both databases.

The 1.1.0 server adds fields to `Task` (`priority`, `tags`) and declares Task open; the
1.0.0 document closed it (`additionalProperties: false`). That one difference is the
documented compatibility note (clients ignore fields they do not know), so the replay
relaxes exactly that keyword of the response schema `Task` and nothing else.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi import FastAPI

from tests.contract.conftest import REPO_ROOT, contract_config, in_process
from tests.contract.test_contract import SHARED_FIXTURES, send_and_validate, with_owner_token

pytestmark = pytest.mark.slow  # seconds per test: run first by the parallel workers

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

RELEASED = REPO_ROOT / "openapi" / "releases" / "1.0.0.json"


def released_contract() -> dict[str, Any]:
    """The 1.0.0 document with Task open: the only relaxation the 1.1.0 changelog states."""
    document: dict[str, Any] = json.loads(RELEASED.read_text(encoding="utf-8"))
    relaxed = copy.deepcopy(document)
    task = relaxed["components"]["schemas"]["Task"]
    assert task["additionalProperties"] is False
    task["additionalProperties"] = True
    return relaxed


def test_the_replay_relaxes_only_tasks_additional_properties() -> None:
    released = json.loads(RELEASED.read_text(encoding="utf-8"))
    relaxed = released_contract()
    assert released["info"]["version"] == "1.0.0"
    released["components"]["schemas"]["Task"].pop("additionalProperties")
    relaxed["components"]["schemas"]["Task"].pop("additionalProperties")
    assert relaxed == released


replay_contract = in_process(
    with_owner_token(schemathesis.openapi.from_dict(released_contract(), config=contract_config()))
)


@replay_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_a_1_0_client_still_works(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "replay-1.0.0")
