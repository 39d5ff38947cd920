"""PATCH .../complete with a CompletionState body sets the completion; without one it flips."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_task, new_owner, token_for

pytestmark = pytest.mark.anyio


def complete_path(owner: str, task_id: int) -> str:
    return f"/api/{owner}/tasks/{task_id}/complete"


async def set_completion(
    client: httpx.AsyncClient, owner: str, task_id: int, body: Any
) -> httpx.Response:
    return await client.patch(complete_path(owner, task_id), json=body, headers=token_for(owner))


async def stored(client: httpx.AsyncClient, owner: str, task_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/{owner}/tasks/{task_id}", headers=token_for(owner))
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


@pytest.mark.parametrize("wanted", [True, False])
async def test_setting_twice_leaves_the_state_asked_for(
    client: httpx.AsyncClient, owner: str, wanted: bool
) -> None:
    task = await make_task(client, owner)
    first = await set_completion(client, owner, task["id"], {"completed": wanted})
    second = await set_completion(client, owner, task["id"], {"completed": wanted})
    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["completed"] is second.json()["completed"] is wanted
    assert (await stored(client, owner, task["id"]))["completed"] is wanted


async def test_updated_at_moves_only_when_the_state_changes(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    same = await set_completion(client, owner, task["id"], {"completed": False})
    assert same.json() == task  # already pending: nothing changed, not even updated_at
    done = await set_completion(client, owner, task["id"], {"completed": True})
    assert done.json()["updated_at"] > task["updated_at"]
    again = await set_completion(client, owner, task["id"], {"completed": True})
    assert again.json() == done.json()


async def test_without_a_body_the_completion_flips_as_in_1_0(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    path = complete_path(owner, task["id"])
    flipped = await client.patch(path, headers=token_for(owner))
    empty = await client.patch(
        path, content=b"", headers={**token_for(owner), "Content-Type": "application/json"}
    )
    assert (flipped.json()["completed"], empty.json()["completed"]) == (True, False)


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        pytest.param(b"{}", "body.completed", id="empty-object"),
        pytest.param(b"null", "body", id="null"),
        pytest.param(b"[]", "body", id="array"),
        pytest.param(b'{"completed": "true"}', "body.completed", id="string"),
        pytest.param(b'{"completed": 1}', "body.completed", id="number"),
        pytest.param(b'{"completed": null}', "body.completed", id="null-value"),
        pytest.param(b'{"completed": true, "title": "x"}', "body.title", id="other-field"),
        pytest.param(b'{"done": true}', "body.done", id="unknown-field"),
    ],
)
async def test_any_other_body_is_422_and_changes_nothing(
    client: httpx.AsyncClient, owner: str, raw: bytes, location: str
) -> None:
    task = await make_task(client, owner)
    response = await client.patch(
        complete_path(owner, task["id"]),
        content=raw,
        headers={**token_for(owner), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert location in {issue["location"] for issue in response.json()["errors"]}
    assert await stored(client, owner, task["id"]) == task


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(client, owner)
    response = await client.patch(
        complete_path(owner, task["id"]),
        content=b"completed=true",
        headers={**token_for(owner), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415, response.text
    assert await stored(client, owner, task["id"]) == task


async def test_another_users_task_is_404_and_unchanged(client: httpx.AsyncClient) -> None:
    owner, other = new_owner(), new_owner()
    task = await make_task(client, owner)
    response = await set_completion(client, other, task["id"], {"completed": True})
    assert response.status_code == 404, response.text
    assert await stored(client, owner, task["id"]) == task
