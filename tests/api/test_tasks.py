"""The task operations, through HTTP, on both databases."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.conftest import make_task, new_owner, token_for

pytestmark = pytest.mark.anyio


async def test_create_stores_the_task_and_names_it(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        json={"title": "Buy milk", "description": "2 litres", "due_date": "2026-12-24"},
        headers=token_for(owner),
    )
    assert response.status_code == 201
    task = response.json()
    assert task["title"] == "Buy milk"
    assert task["description"] == "2 litres"
    assert task["due_date"] == "2026-12-24"
    assert task["completed"] is False
    assert task["user_id"] == owner
    assert task["created_at"] == task["updated_at"]
    assert datetime.fromisoformat(task["created_at"]).utcoffset() is not None
    assert response.headers["location"] == f"/api/{owner}/tasks/{task['id']}"
    fetched = await client.get(response.headers["location"], headers=token_for(owner))
    assert fetched.json() == task


async def test_create_with_title_only_leaves_the_rest_empty(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, title="x")
    assert task["description"] is None
    assert task["due_date"] is None


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"title": ""}, "body.title"),
        ({"title": "t" * 201}, "body.title"),
        ({"title": "ok", "description": "d" * 1001}, "body.description"),
        ({"description": "no title"}, "body.title"),
        ({"title": 5}, "body.title"),
        ({"title": "ok", "due_date": "tomorrow"}, "body.due_date"),
    ],
)
async def test_create_rejects_invalid_bodies_naming_the_field(
    client: httpx.AsyncClient, owner: str, body: dict[str, object], location: str
) -> None:
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert location in [issue["location"] for issue in problem["errors"]]
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == []


async def test_bounds_of_title_and_description_are_accepted(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, title="t" * 200, description="d" * 1000)
    assert len(task["title"]) == 200
    assert len(task["description"]) == 1000


@pytest.mark.parametrize("field", ["id", "user_id", "created_at", "updated_at", "completed"])
async def test_create_cannot_set_server_fields(
    client: httpx.AsyncClient, owner: str, field: str
) -> None:
    value = {"id": 1, "user_id": "someone-else", "completed": True}.get(
        field, "2000-01-01T00:00:00Z"
    )
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", field: value}, headers=token_for(owner)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == f"body.{field}"


async def test_get_returns_only_the_owners_task(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(client, owner)
    other = new_owner()
    own_path = await client.get(f"/api/{other}/tasks/{task['id']}", headers=token_for(other))
    assert own_path.status_code == 404
    missing = await client.get(f"/api/{other}/tasks/999999999", headers=token_for(other))
    assert missing.status_code == 404
    # Another user's id and a missing id are indistinguishable apart from the id itself.
    assert own_path.json()["detail"].replace(str(task["id"]), "N") == missing.json()[
        "detail"
    ].replace("999999999", "N")


async def test_update_changes_named_fields_only(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(client, owner, title="old", description="keep", due_date="2026-01-02")
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json={"title": "new"}, headers=token_for(owner)
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "new"
    assert updated["description"] == "keep"
    assert updated["due_date"] == "2026-01-02"
    assert updated["created_at"] == task["created_at"]
    assert updated["updated_at"] > task["updated_at"]
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == updated


async def test_update_null_clears_optional_fields(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(client, owner, description="d", due_date="2026-01-02")
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}",
        json={"description": None, "due_date": None, "completed": True},
        headers=token_for(owner),
    )
    assert response.status_code == 200
    assert response.json()["description"] is None
    assert response.json()["due_date"] is None
    assert response.json()["completed"] is True


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": None},
        {"completed": None},
        {"title": ""},
        {"id": 7},
        {"user_id": "x"},
        {"created_at": "2000-01-01T00:00:00Z"},
    ],
)
async def test_update_rejects_bodies_the_spec_forbids(
    client: httpx.AsyncClient, owner: str, body: dict[str, object]
) -> None:
    task = await make_task(client, owner)
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json=body, headers=token_for(owner)
    )
    assert response.status_code == 422
    assert response.json()["errors"]
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task


async def test_update_of_another_users_task_is_404_and_changes_nothing(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    intruder = new_owner()
    response = await client.put(
        f"/api/{intruder}/tasks/{task['id']}", json={"title": "mine"}, headers=token_for(intruder)
    )
    assert response.status_code == 404
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task


async def test_toggle_flips_and_returns_the_new_state(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    path = f"/api/{owner}/tasks/{task['id']}/complete"
    first = await client.patch(path, headers=token_for(owner))
    second = await client.patch(path, headers=token_for(owner))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["completed"] is True
    assert second.json()["completed"] is False
    assert first.json()["updated_at"] > task["updated_at"]
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == second.json()


async def test_toggle_of_missing_task_is_404(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.patch(
        f"/api/{owner}/tasks/424242424/complete", headers=token_for(owner)
    )
    assert response.status_code == 404


async def test_delete_removes_for_good(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(client, owner)
    path = f"/api/{owner}/tasks/{task['id']}"
    deleted = await client.delete(path, headers=token_for(owner))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(path, headers=token_for(owner))).status_code == 404
    assert (await client.delete(path, headers=token_for(owner))).status_code == 404
    replacement = await make_task(client, owner)
    assert replacement["id"] != task["id"]


async def test_delete_of_another_users_task_is_404_and_keeps_it(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    intruder = new_owner()
    response = await client.delete(
        f"/api/{intruder}/tasks/{task['id']}", headers=token_for(intruder)
    )
    assert response.status_code == 404
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.status_code == 200


@pytest.mark.parametrize("task_id", ["0", "-1", "abc", "9223372036854775808", "1.5"])
async def test_invalid_task_ids_are_422(
    client: httpx.AsyncClient, owner: str, task_id: str
) -> None:
    response = await client.get(f"/api/{owner}/tasks/{task_id}", headers=token_for(owner))
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "path.task_id"


async def test_largest_task_id_is_a_clean_404(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.get(f"/api/{owner}/tasks/9223372036854775807", headers=token_for(owner))
    assert response.status_code == 404
