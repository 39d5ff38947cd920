"""Priorities and tags on tasks: defaults, create, update, and the 422s, on both databases."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table

from backend.storage.models import TaskTagRecord
from tests.conftest import make_task, token_for
from tests.support.rows import table_rows

pytestmark = pytest.mark.anyio
TASK_TAG: Table = TaskTagRecord.__table__  # type: ignore[attr-defined]  # SQLModel sets it


async def test_a_task_created_without_them_is_medium_with_no_tags(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, title="plain")
    assert task["priority"] == "medium"
    assert task["tags"] == []
    fetched = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert fetched.json() == task


async def test_priority_and_tags_are_stored_and_tags_come_back_sorted(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(
        client, owner, title="t", priority="high", tags=["work", "2026", "a-b_c", "home"]
    )
    assert task["priority"] == "high"
    assert task["tags"] == ["2026", "a-b_c", "home", "work"]
    fetched = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert fetched.json() == task


async def test_update_replaces_the_whole_set_of_tags_and_empty_clears_it(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, tags=["a", "b"])
    url, headers = f"/api/{owner}/tasks/{task['id']}", token_for(owner)
    replaced = await client.put(url, json={"tags": ["c", "b"]}, headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["tags"] == ["b", "c"]
    assert replaced.json()["priority"] == "medium"
    listed = await client.get(f"/api/{owner}/tasks", params={"tag": "a"}, headers=headers)
    assert listed.json() == []
    cleared = await client.put(url, json={"tags": []}, headers=headers)
    assert cleared.json()["tags"] == []
    for tag in ("a", "b", "c"):
        listed = await client.get(f"/api/{owner}/tasks", params={"tag": tag}, headers=headers)
        assert listed.json() == [], tag


async def test_update_of_other_fields_keeps_priority_and_tags(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, priority="low", tags=["x"])
    url, headers = f"/api/{owner}/tasks/{task['id']}", token_for(owner)
    updated = await client.put(url, json={"title": "renamed", "completed": True}, headers=headers)
    assert updated.json()["priority"] == "low"
    assert updated.json()["tags"] == ["x"]
    changed = await client.put(url, json={"priority": "high"}, headers=headers)
    assert changed.json()["priority"] == "high"
    assert changed.json()["tags"] == ["x"]
    listed = await client.get(f"/api/{owner}/tasks", params={"tag": "x"}, headers=headers)
    assert [found["id"] for found in listed.json()] == [task["id"]]


async def test_a_deleted_task_leaves_no_tag_behind(
    app: FastAPI, client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, tags=["gone", "too"])
    headers = token_for(owner)
    tag_rows = await table_rows(app, TASK_TAG, task_id=task["id"])
    assert [(row["tag"], row["user_id"]) for row in tag_rows] == [("gone", owner), ("too", owner)]
    deleted = await client.delete(f"/api/{owner}/tasks/{task['id']}", headers=headers)
    assert deleted.status_code == 204
    assert await table_rows(app, TASK_TAG, task_id=task["id"]) == []
    assert await table_rows(app, TASK_TAG, user_id=owner) == []
    listed = await client.get(f"/api/{owner}/tasks", params={"tag": "gone"}, headers=headers)
    assert listed.json() == []


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"priority": "urgent"}, "body.priority"),
        ({"priority": None}, "body.priority"),
        ({"priority": 1}, "body.priority"),
        ({"tags": ["has space"]}, "body.tags.0"),
        ({"tags": ["Upper"]}, "body.tags.0"),
        ({"tags": ["-leading"]}, "body.tags.0"),
        ({"tags": [""]}, "body.tags.0"),
        ({"tags": ["x" * 33]}, "body.tags.0"),
        ({"tags": ["été"]}, "body.tags.0"),
        ({"tags": [f"t{i}" for i in range(11)]}, "body.tags"),
        ({"tags": ["same", "other", "same"]}, "body.tags"),
        ({"tags": None}, "body.tags"),
        ({"tags": "one"}, "body.tags"),
    ],
)
async def test_invalid_priority_or_tags_are_422_naming_the_field(
    client: httpx.AsyncClient, owner: str, body: dict[str, object], location: str
) -> None:
    headers = token_for(owner)
    task = await make_task(client, owner, title="kept", tags=["kept"])
    created = await client.post(f"/api/{owner}/tasks", json={"title": "t", **body}, headers=headers)
    updated = await client.put(f"/api/{owner}/tasks/{task['id']}", json=body, headers=headers)
    for response in (created, updated):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert location in [issue["location"] for issue in problem["errors"]], problem
    listed = await client.get(f"/api/{owner}/tasks", headers=headers)
    assert listed.json() == [task]  # nothing was created or changed


async def test_a_duplicate_tag_is_named_in_the_message(
    client: httpx.AsyncClient, owner: str
) -> None:
    body = {"title": "t", "tags": ["a", "b", "a"]}
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"location": "body.tags", "message": "'a' named more than once: items are a set"}
    ]


async def test_ten_tags_are_accepted(client: httpx.AsyncClient, owner: str) -> None:
    tags = [f"tag-{i:02d}" for i in range(10)]
    task = await make_task(client, owner, tags=list(reversed(tags)))
    assert task["tags"] == tags
