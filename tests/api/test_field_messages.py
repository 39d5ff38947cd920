"""A 422 for a body field says whether the contract lacks the field or the server sets it."""

from __future__ import annotations

import httpx
import pytest

from backend.contract import read_only_fields
from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio


def test_the_read_only_fields_are_the_servers() -> None:
    assert read_only_fields() == {
        *("id", "user_id", "created_at", "updated_at"),
        *("due_at", "remind_at", "next_occurrence_id"),
    }


def messages(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {issue["location"]: issue["message"] for issue in response.json()["errors"]}


async def test_an_unknown_field_is_named_unknown(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", "colour": "red"}, headers=token_for(owner)
    )
    assert messages(response) == {"body.colour": "no field `colour` in TaskCreate"}


async def test_a_field_of_updates_only_is_unknown_to_a_create(
    client: httpx.AsyncClient, owner: str
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", "completed": True}, headers=token_for(owner)
    )
    assert messages(response) == {"body.completed": "no field `completed` in TaskCreate"}


@pytest.mark.parametrize("name", ["id", "user_id", "created_at", "updated_at"])
async def test_a_server_field_is_named_read_only(
    client: httpx.AsyncClient, owner: str, name: str
) -> None:
    task = await make_task(client, owner)
    created = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", name: task[name]}, headers=token_for(owner)
    )
    updated = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json={name: task[name]}, headers=token_for(owner)
    )
    expected = {f"body.{name}": f"`{name}` is read-only: the server sets it"}
    assert messages(created) == messages(updated) == expected


async def test_an_unknown_field_of_an_update_names_task_update(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json={"owner": "x"}, headers=token_for(owner)
    )
    assert messages(response) == {"body.owner": "no field `owner` in TaskUpdate"}
