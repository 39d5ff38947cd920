"""A test's requests for one owner's tasks over HTTP, each checking its status and returning
the task (or tasks) as the API answered: what the schedule and recurrence tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import token_for

Task = dict[str, Any]


def task_path(owner: str, task_id: int) -> str:
    return f"/api/{owner}/tasks/{task_id}"


def utc(text: str | None) -> datetime:
    """A moment of a response, which must be in UTC."""
    assert text is not None
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0), text
    return moment


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def read(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    response = await client.get(task_path(owner, task_id), headers=token_for(owner))
    assert response.status_code == 200, response.text
    task: Task = response.json()
    return task


async def every_task(client: httpx.AsyncClient, owner: str) -> list[Task]:
    """All of the owner's tasks, oldest first (one page: the tests make few)."""
    response = await client.get(
        f"/api/{owner}/tasks",
        params={"limit": 100, "sort": "created"},
        headers=token_for(owner),
    )
    assert response.status_code == 200, response.text
    assert "X-Next-Cursor" not in response.headers
    tasks: list[Task] = response.json()
    return sorted(tasks, key=lambda task: int(task["id"]))


async def complete(client: httpx.AsyncClient, owner: str, task_id: int, body: Any = None) -> Task:
    """Complete (or flip, without a body) through the completion route."""
    path = f"{task_path(owner, task_id)}/complete"
    if body is None:
        response = await client.patch(path, headers=token_for(owner))
    else:
        response = await client.patch(path, json=body, headers=token_for(owner))
    assert response.status_code == 200, response.text
    task: Task = response.json()
    return task


async def update(client: httpx.AsyncClient, owner: str, task_id: int, body: Any) -> Task:
    response = await client.put(task_path(owner, task_id), json=body, headers=token_for(owner))
    assert response.status_code == 200, response.text
    task: Task = response.json()
    return task
