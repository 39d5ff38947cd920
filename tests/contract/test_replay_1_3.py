"""A 1.3.0 client against this server: the released 1.3.0 contract, fuzzed in-process with
every check, still holds on both databases, and so do its conditional flows.

1.4.0 only adds to what a 1.3.0 client can send (optional fields `due_time`, `time_zone`,
`recurrence` and `remind_before_minutes`, a new `sort` value, `remind_from` and
`remind_to`) and to what it receives (seven more fields in every task, which 1.3.0's open
`Task` already allows a client to ignore), so the 1.3.0 document is replayed unchanged.

The fuzzer sends If-Match and If-None-Match with drawn tags, which rarely name a task's
real one. The flows a 1.3.0 client follows are therefore also played step by step: read a
task and keep its ETag, write with it (200 and a new tag), write again with the old one
(412, nothing written), read with the tag held (304, no body); every answer is checked
against the 1.3.0 document.
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

RELEASED = REPO_ROOT / "openapi" / "releases" / "1.3.0.json"
DOCUMENT: dict[str, Any] = json.loads(RELEASED.read_text(encoding="utf-8"))
# What 1.4.0 added, which a 1.3.0 client neither sends nor knows.
FIELDS_OF_1_4 = {
    "due_time",
    "time_zone",
    "due_at",
    "recurrence",
    "next_occurrence_id",
    "remind_before_minutes",
    "remind_at",
}


def test_the_replayed_document_is_the_1_3_release() -> None:
    assert DOCUMENT["info"]["version"] == "1.3.0"
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("Task", "TaskCreate", "TaskUpdate"):
        assert not set(schemas[name]["properties"]) & FIELDS_OF_1_4, name
    assert "remind_at" not in schemas["TaskSort"]["enum"]
    conditional = {}
    for methods in DOCUMENT["paths"].values():
        for operation in methods.values():
            names = {parameter["name"] for parameter in operation["parameters"]}
            assert not names & {"remind_from", "remind_to"}, operation["operationId"]
            conditional[operation["operationId"]] = names & {"If-Match", "If-None-Match"}
    assert conditional == {
        "listTasks": set(),
        "createTask": set(),
        "getTask": {"If-None-Match"},
        "updateTask": {"If-Match"},
        "deleteTask": {"If-Match"},
        "toggleTaskCompletion": {"If-Match"},
    }


replay_contract = in_process(
    with_owner_token(schemathesis.openapi.from_path(RELEASED, config=contract_config()))
)


@replay_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_a_1_3_client_still_works(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "replay-1.3.0")


def kept_to_1_3(response: httpx.Response) -> httpx.Response:
    """The answer keeps to the 1.3.0 document: status, media type, headers and body."""
    answer = Answer.of(response)
    assert answer_problems(answer, DOCUMENT) == [], response.text
    return response


@pytest.mark.anyio
async def test_a_1_3_client_edits_with_etags(client: httpx.AsyncClient) -> None:
    """ETag on every task answer; If-Match 200 then 412; If-None-Match 304."""
    owner = new_owner()
    auth = token_for(owner)
    tasks = f"/api/{owner}/tasks"

    created = kept_to_1_3(
        await client.post(tasks, json={"title": "Buy milk", "due_date": "2026-12-24"}, headers=auth)
    )
    assert created.status_code == 201
    task = f"{tasks}/{created.json()['id']}"
    read = kept_to_1_3(await client.get(task, headers=auth))
    assert read.status_code == 200
    tag = read.headers["ETag"]
    assert tag == created.headers["ETag"]

    # The copy held is current: 304, no body, the same tag.
    same = kept_to_1_3(await client.get(task, headers={**auth, "If-None-Match": tag}))
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", tag)

    # A write with the tag read: written, and the task has a new tag.
    updated = kept_to_1_3(
        await client.put(task, json={"description": "2 litres"}, headers={**auth, "If-Match": tag})
    )
    assert updated.status_code == 200
    new_tag = updated.headers["ETag"]
    assert new_tag != tag
    assert updated.json()["description"] == "2 litres"
    assert updated.json()["due_date"] == "2026-12-24"

    # A second tab writes with the old tag: 412, and nothing is written.
    for stale in (
        client.put(task, json={"title": "Buy oat milk"}, headers={**auth, "If-Match": tag}),
        client.patch(f"{task}/complete", headers={**auth, "If-Match": tag}),
        client.delete(task, headers={**auth, "If-Match": tag}),
    ):
        refused = kept_to_1_3(await stale)
        assert refused.status_code == 412, refused.text
    again = kept_to_1_3(await client.get(task, headers={**auth, "If-None-Match": new_tag}))
    assert again.status_code == 304

    # The old tag no longer matches: the whole task comes back, as 1.3.0 describes it.
    fresh = kept_to_1_3(await client.get(task, headers={**auth, "If-None-Match": tag}))
    assert fresh.status_code == 200
    body = fresh.json()
    assert (body["title"], body["completed"], fresh.headers["ETag"]) == (
        "Buy milk",
        False,
        new_tag,
    )

    # The completion with the current tag (a body, as 1.2.0 allows), then the delete.
    completed = kept_to_1_3(
        await client.patch(
            f"{task}/complete", json={"completed": True}, headers={**auth, "If-Match": new_tag}
        )
    )
    assert completed.status_code == 200
    assert completed.json()["completed"] is True
    done_tag = completed.headers["ETag"]
    assert done_tag != new_tag
    deleted = kept_to_1_3(await client.delete(task, headers={**auth, "If-Match": done_tag}))
    assert deleted.status_code == 204
    gone = kept_to_1_3(
        await client.put(task, json={"title": "x"}, headers={**auth, "If-Match": "*"})
    )
    assert gone.status_code == 412


@pytest.mark.anyio
async def test_a_1_3_client_lists_and_pages_as_before(client: httpx.AsyncClient) -> None:
    """The orders and filters 1.3.0 knows, with a cursor, on tasks made by a 1.3.0 client."""
    owner = new_owner()
    auth = token_for(owner)
    tasks = f"/api/{owner}/tasks"
    for title, day in (("a", "2026-12-01"), ("b", None), ("c", "2026-11-30")):
        made = kept_to_1_3(
            await client.post(tasks, json={"title": title, "due_date": day}, headers=auth)
        )
        assert made.status_code == 201
    first = kept_to_1_3(
        await client.get(tasks, params={"sort": "due_date", "limit": 2}, headers=auth)
    )
    assert [t["title"] for t in first.json()] == ["c", "a"]
    rest = kept_to_1_3(
        await client.get(
            tasks,
            params={"sort": "due_date", "limit": 2, "cursor": first.headers["X-Next-Cursor"]},
            headers=auth,
        )
    )
    assert [t["title"] for t in rest.json()] == ["b"]
    assert "X-Next-Cursor" not in rest.headers
