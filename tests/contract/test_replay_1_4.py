"""A 1.4.2 client against this server: the released 1.4.2 contract, fuzzed in-process with
every check, still holds on both databases.

1.5.0 changed no shape a 1.4.2 client knows: a cursor may be longer (a client passes back
what it got), and the fixes of 1.5.0 answer requests 1.4.2 answered with a 500 or a wrong
day. So the 1.4.2 document is replayed unchanged, and a 1.4.2 client's recurring task,
reminder window and pages are played step by step against it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI

from tests.conftest import new_owner, token_for
from tests.contract.conftest import REPO_ROOT, contract_config, in_process
from tests.contract.test_contract import SHARED_FIXTURES, send_and_validate, with_owner_token
from tests.support.contract_answers import Answer, answer_problems

pytestmark = pytest.mark.slow  # seconds per test: run first by the parallel workers

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

RELEASED = REPO_ROOT / "openapi" / "releases" / "1.4.2.json"
DOCUMENT: dict[str, Any] = json.loads(RELEASED.read_text(encoding="utf-8"))


def test_the_replayed_document_is_the_1_4_2_release() -> None:
    assert DOCUMENT["info"]["version"] == "1.4.2"
    cursor = next(
        parameter
        for parameter in DOCUMENT["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
        if parameter["name"] == "cursor"
    )
    assert cursor["schema"]["maxLength"] == 512


replay_contract = in_process(
    with_owner_token(schemathesis.openapi.from_path(RELEASED, config=contract_config()))
)


@replay_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_a_1_4_client_still_works(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "replay-1.4.2")


def kept_to_1_4(response: httpx.Response) -> httpx.Response:
    """The answer keeps to the 1.4.2 document: status, media type, headers and body."""
    assert answer_problems(Answer.of(response), DOCUMENT) == [], response.text
    return response


@pytest.mark.anyio
async def test_a_1_4_client_completes_a_yearly_task_and_polls_its_reminders(
    client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    auth = token_for(owner)
    tasks = f"/api/{owner}/tasks"
    made = kept_to_1_4(
        await client.post(
            tasks,
            json={
                "title": "Thanksgiving dinner",
                "due_date": "2026-11-26",
                "due_time": "18:00",
                "time_zone": "America/New_York",
                "recurrence": "FREQ=YEARLY;BYDAY=4TH",
                "remind_before_minutes": 60,
            },
            headers=auth,
        )
    )
    assert made.status_code == 201, made.text
    completed = kept_to_1_4(
        await client.patch(f"{tasks}/{made.json()['id']}/complete", headers=auth)
    )
    following = kept_to_1_4(
        await client.get(f"{tasks}/{completed.json()['next_occurrence_id']}", headers=auth)
    )
    assert (following.json()["due_date"], following.json()["remind_at"]) == (
        "2027-11-25",
        "2027-11-25T22:00:00Z",
    )
    window: dict[str, str | int] = {
        "sort": "remind_at",
        "remind_from": "2027-11-25T00:00:00+14:00",
        "limit": 1,
    }
    polled = kept_to_1_4(await client.get(tasks, params=window, headers=auth))
    assert [task["id"] for task in polled.json()] == [following.json()["id"]]
    assert "X-Next-Cursor" not in polled.headers
