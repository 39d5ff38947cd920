"""Group 3: property-level authorization (BOPLA, mass assignment).

Create and update can never set the id, the owner or the timestamps. The contract
(`additionalProperties: false`) makes every name outside TaskCreate/TaskUpdate a 422,
whatever its casing or nesting; the stored task keeps the server's values.

Task, the response, allows additional properties (clients ignore fields they do not know,
so minor versions can add some); the server still sends exactly the contract's fields, never
a storage column such as the folded text search reads.

Duplicate keys: RFC 8259 leaves them undefined. The server takes the last occurrence,
as JavaScript's JSON.parse does, so the front end and the server read a body alike; a
duplicated forbidden name is still forbidden.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_task, new_owner, token_for

pytestmark = pytest.mark.anyio

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"

# Generous: the database's clock and the test's clock are the same machine's.
CLOCK_SLACK = timedelta(seconds=5)
FORGED_TIME = "2001-01-01T00:00:00Z"

SERVER_FIELDS: list[tuple[str, Any]] = [
    ("id", 1),
    ("user_id", "victim"),
    ("created_at", FORGED_TIME),
    ("updated_at", FORGED_TIME),
]
SMUGGLED: list[Any] = [
    *[pytest.param({name: value}, id=name) for name, value in SERVER_FIELDS],
    pytest.param({"ID": 1}, id="ID"),
    pytest.param({"User_Id": "victim"}, id="User_Id"),
    pytest.param({"userId": "victim"}, id="userId"),
    pytest.param({"owner": "victim"}, id="owner"),
    pytest.param({"owner_id": "victim"}, id="owner_id"),
    pytest.param({"CREATED_AT": FORGED_TIME}, id="CREATED_AT"),
    pytest.param({"createdAt": FORGED_TIME}, id="createdAt"),
    pytest.param({"task": {"id": 1, "user_id": "victim"}}, id="nested-task-object"),
    pytest.param({"__proto__": {"user_id": "victim"}}, id="__proto__"),
    pytest.param({"constructor": {"prototype": {"id": 1}}}, id="constructor-prototype"),
    pytest.param({"id": None, "user_id": None}, id="nulls"),
    # The row version behind the ETag is the server's: a body cannot pick it (1.3.0).
    pytest.param({"version": 1}, id="version"),
    pytest.param({"etag": '"1"'}, id="etag"),
    pytest.param(dict(SERVER_FIELDS), id="all-server-fields"),
]


def as_server_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_server_time(text: str, before: datetime, after: datetime) -> None:
    moment = as_server_time(text)
    assert moment.tzinfo is not None
    assert before - CLOCK_SLACK <= moment <= after + CLOCK_SLACK, (moment, before, after)


async def tasks_of(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def assert_rejected_field(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"], problem
    assert all(issue["location"].startswith("body") for issue in problem["errors"])


@pytest.mark.parametrize("extra", SMUGGLED)
async def test_create_cannot_set_server_fields(
    client: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    owner, victim = new_owner(), new_owner()
    body = {"title": "mine", **{k: (victim if v == "victim" else v) for k, v in extra.items()}}
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert_rejected_field(response)
    assert await tasks_of(client, owner) == []
    assert await tasks_of(client, victim) == []


@pytest.mark.parametrize("extra", SMUGGLED)
async def test_update_cannot_change_server_fields(
    client: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    owner, victim = new_owner(), new_owner()
    task = await make_task(client, owner, title="before")
    body = {"title": "after", **{k: (victim if v == "victim" else v) for k, v in extra.items()}}
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json=body, headers=token_for(owner)
    )
    assert_rejected_field(response)
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task  # not even the allowed title changed: all or nothing
    assert await tasks_of(client, victim) == []


async def test_create_sets_id_owner_and_times_itself(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    before = datetime.now(UTC)
    task = await make_task(client, owner, title="fresh")
    after = datetime.now(UTC)
    assert task["user_id"] == owner
    assert isinstance(task["id"], int)
    assert task["id"] >= 1
    assert task["completed"] is False
    assert_server_time(task["created_at"], before, after)
    assert task["updated_at"] == task["created_at"]
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task


async def test_update_moves_updated_at_only(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    task = await make_task(client, owner, title="before")
    before = datetime.now(UTC)
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json={"completed": True}, headers=token_for(owner)
    )
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {k: updated[k] for k in ("id", "user_id", "created_at")} == {
        k: task[k] for k in ("id", "user_id", "created_at")
    }
    assert_server_time(updated["updated_at"], before, after)
    assert as_server_time(updated["updated_at"]) >= as_server_time(task["created_at"])


async def test_create_cannot_set_completed(client: httpx.AsyncClient) -> None:
    """`completed` is not part of TaskCreate: a new task is never born done."""
    owner = new_owner()
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", "completed": True}, headers=token_for(owner)
    )
    assert_rejected_field(response)
    assert await tasks_of(client, owner) == []


async def test_query_parameters_cannot_set_server_fields(client: httpx.AsyncClient) -> None:
    owner, victim = new_owner(), new_owner()
    response = await client.post(
        f"/api/{owner}/tasks",
        params={"user_id": victim, "id": "1", "created_at": FORGED_TIME},
        json={"title": "mine"},
        headers=token_for(owner),
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["user_id"] == owner
    assert task["created_at"] != FORGED_TIME
    assert await tasks_of(client, victim) == []


@pytest.mark.parametrize("extra", SMUGGLED)
async def test_the_completion_body_cannot_set_server_fields(
    client: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    """PATCH .../complete takes CompletionState alone: a body naming anything else is 422
    and the task does not change at all (not even its completion)."""
    owner, victim = new_owner(), new_owner()
    task = await make_task(client, owner, title="complete me")
    body = {"completed": True, **{k: (victim if v == "victim" else v) for k, v in extra.items()}}
    response = await client.patch(
        f"/api/{owner}/tasks/{task['id']}/complete", json=body, headers=token_for(owner)
    )
    assert_rejected_field(response)
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task
    assert await tasks_of(client, victim) == []


async def test_the_completion_body_sets_only_completed(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    task = await make_task(client, owner, title="complete me")
    response = await client.patch(
        f"/api/{owner}/tasks/{task['id']}/complete",
        json={"completed": True},
        headers=token_for(owner),
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["completed"] is True
    unchanged = ("id", "user_id", "created_at", "title", "priority", "tags", "due_date")
    assert {k: done[k] for k in unchanged} == {k: task[k] for k in unchanged}


async def test_duplicate_keys_take_the_last_value(client: httpx.AsyncClient) -> None:
    owner = new_owner()
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b'{"title": "first", "title": "last"}',
        headers={**token_for(owner), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "last"
    assert [task["title"] for task in await tasks_of(client, owner)] == ["last"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"title": "t", "user_id": "%s", "user_id": "%s"}', id="owner-twice"),
        pytest.param(b'{"title": "t", "id": 1, "id": 2}', id="id-twice"),
    ],
)
async def test_a_duplicated_server_field_is_still_rejected(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    owner, victim = new_owner(), new_owner()
    if b"%s" in raw:
        raw = raw % (victim.encode(), owner.encode())
    response = await client.post(
        f"/api/{owner}/tasks",
        content=raw,
        headers={**token_for(owner), "Content-Type": "application/json"},
    )
    assert_rejected_field(response)
    assert await tasks_of(client, owner) == []
    assert await tasks_of(client, victim) == []


def task_fields() -> set[str]:
    contract = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return set(contract["components"]["schemas"]["Task"]["properties"])


async def test_responses_carry_exactly_the_contracts_task_fields(
    client: httpx.AsyncClient,
) -> None:
    owner = new_owner()
    headers = token_for(owner)
    created = await client.post(
        f"/api/{owner}/tasks",
        json={"title": "Été", "description": "Straße", "tags": ["a"], "priority": "low"},
        headers=headers,
    )
    url = f"/api/{owner}/tasks/{created.json()['id']}"
    responses = [
        created,
        await client.get(url, headers=headers),
        await client.put(url, json={"title": "Winter"}, headers=headers),
        await client.patch(f"{url}/complete", headers=headers),
    ]
    listed = await client.get(f"/api/{owner}/tasks", params={"q": "winter"}, headers=headers)
    bodies = [response.json() for response in responses] + listed.json()
    assert len(bodies) == 5
    for body in bodies:
        assert set(body) == task_fields(), body
