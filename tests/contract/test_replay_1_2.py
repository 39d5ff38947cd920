"""A 1.2.0 client against this server: the released 1.2.0 contract, fuzzed in-process with
every check, still holds on both databases.

1.3.0 only adds to what a 1.2.0 client can send (optional If-Match and If-None-Match
headers) and to what it receives (an ETag header it may ignore, and 304, 412 and 428, which
it meets only when it sends the new headers or the server requires them, which it does not
by default), so the 1.2.0 document is replayed unchanged.
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

RELEASED = REPO_ROOT / "openapi" / "releases" / "1.2.0.json"


def test_the_replayed_document_is_the_1_2_release() -> None:
    released = json.loads(RELEASED.read_text(encoding="utf-8"))
    assert released["info"]["version"] == "1.2.0"
    for methods in released["paths"].values():
        for operation in methods.values():
            names = {parameter["name"] for parameter in operation["parameters"]}
            assert not names & {"If-Match", "If-None-Match"}, operation["operationId"]


replay_contract = in_process(
    with_owner_token(schemathesis.openapi.from_path(RELEASED, config=contract_config()))
)


@replay_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_a_1_2_client_still_works(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "replay-1.2.0")
