"""A 1.1.0 client against this server: the released 1.1.0 contract, fuzzed in-process with
every check, still holds on both databases.

1.2.0 only adds to what a 1.1.0 client can send (an optional header, an optional body) and
to the errors it may meet when it sends them, so the 1.1.0 document is replayed unchanged:
no key on a create, no body on the completion route, exactly as 1.1.0 clients send them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import schemathesis
from fastapi import FastAPI

from tests.contract.conftest import REPO_ROOT, contract_config, in_process
from tests.contract.test_contract import SHARED_FIXTURES, send_and_validate, with_owner_token

pytestmark = pytest.mark.slow  # seconds per test: run first by the parallel workers

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

RELEASED = REPO_ROOT / "openapi" / "releases" / "1.1.0.json"


def test_the_replayed_document_is_the_1_1_release() -> None:
    released = json.loads(RELEASED.read_text(encoding="utf-8"))
    assert released["info"]["version"] == "1.1.0"
    create = released["paths"]["/api/{user_id}/tasks"]["post"]
    assert [parameter["in"] for parameter in create["parameters"]] == ["path"]
    assert (
        "requestBody" not in released["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]
    )


replay_contract = in_process(
    with_owner_token(schemathesis.openapi.from_path(RELEASED, config=contract_config()))
)


@replay_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_a_1_1_client_still_works(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "replay-1.1.0")
