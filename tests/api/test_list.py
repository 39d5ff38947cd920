"""Listing: filters, orders and keyset pages, on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_task, new_owner, token_for

pytestmark = pytest.mark.anyio


async def list_all(
    client: httpx.AsyncClient, owner: str, *, limit: int, **params: str
) -> tuple[list[dict[str, Any]], int]:
    """Follow X-Next-Cursor to the end; returns the tasks and the number of pages."""
    tasks: list[dict[str, Any]] = []
    pages = 0
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        response = await client.get(f"/api/{owner}/tasks", params=query, headers=token_for(owner))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        tasks.extend(page)
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return tasks, pages
        assert len(page) == limit
        query["cursor"] = cursor


async def test_empty_list_is_an_empty_array(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert response.status_code == 200
    assert response.json() == []
    assert "x-next-cursor" not in response.headers


async def test_list_shows_only_the_owners_tasks(client: httpx.AsyncClient, owner: str) -> None:
    mine = await make_task(client, owner, title="mine")
    other = new_owner()
    await make_task(client, other, title="theirs")
    response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert [task["id"] for task in response.json()] == [mine["id"]]


async def test_status_filter(client: httpx.AsyncClient, owner: str) -> None:
    done = await make_task(client, owner, title="done")
    await client.patch(f"/api/{owner}/tasks/{done['id']}/complete", headers=token_for(owner))
    open_task = await make_task(client, owner, title="open")
    for status, expected in [
        ("pending", [open_task["id"]]),
        ("completed", [done["id"]]),
        ("all", [open_task["id"], done["id"]]),
    ]:
        response = await client.get(
            f"/api/{owner}/tasks", params={"status": status}, headers=token_for(owner)
        )
        assert [task["id"] for task in response.json()] == expected, status


async def test_default_order_is_newest_first(client: httpx.AsyncClient, owner: str) -> None:
    created = [await make_task(client, owner, title=f"t{i}") for i in range(4)]
    response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert [task["id"] for task in response.json()] == [t["id"] for t in reversed(created)]


async def test_title_order_is_by_code_point_then_id(client: httpx.AsyncClient, owner: str) -> None:
    titles = ["banana", "Apple", "apple", "Ábaco", "banana", "Zebra", "_x"]
    created = [await make_task(client, owner, title=title) for title in titles]
    response = await client.get(
        f"/api/{owner}/tasks", params={"sort": "title"}, headers=token_for(owner)
    )
    expected = sorted(created, key=lambda task: (task["title"], task["id"]))
    assert [task["id"] for task in response.json()] == [task["id"] for task in expected]


async def test_due_date_order_puts_undated_last(client: httpx.AsyncClient, owner: str) -> None:
    undated_first = await make_task(client, owner, title="no date 1")
    late = await make_task(client, owner, title="late", due_date="2027-01-01")
    early = await make_task(client, owner, title="early", due_date="2026-01-01")
    undated_second = await make_task(client, owner, title="no date 2")
    same_day = await make_task(client, owner, title="also early", due_date="2026-01-01")
    response = await client.get(
        f"/api/{owner}/tasks", params={"sort": "due_date"}, headers=token_for(owner)
    )
    assert [task["id"] for task in response.json()] == [
        early["id"],
        same_day["id"],
        late["id"],
        undated_first["id"],
        undated_second["id"],
    ]


@pytest.mark.parametrize("sort", ["created", "title", "due_date"])
@pytest.mark.parametrize("status", ["all", "pending", "completed"])
async def test_pages_cover_every_task_once_in_order(
    client: httpx.AsyncClient, owner: str, sort: str, status: str
) -> None:
    for index in range(11):
        task = await make_task(
            client,
            owner,
            title=f"task {index % 4}",  # repeated titles exercise the id tie-breaker
            due_date=None if index % 3 == 0 else f"2026-0{1 + index % 2}-15",
        )
        if index % 2:
            await client.patch(
                f"/api/{owner}/tasks/{task['id']}/complete", headers=token_for(owner)
            )
    whole = await client.get(
        f"/api/{owner}/tasks",
        params={"sort": sort, "status": status, "limit": 100},
        headers=token_for(owner),
    )
    paged, pages = await list_all(client, owner, limit=3, sort=sort, status=status)
    assert [task["id"] for task in paged] == [task["id"] for task in whole.json()]
    assert len({task["id"] for task in paged}) == len(paged)
    assert pages == max(1, -(-len(paged) // 3))  # no empty trailing page


async def test_pages_neither_repeat_nor_skip_under_concurrent_changes(
    client: httpx.AsyncClient, owner: str
) -> None:
    created = [await make_task(client, owner, title=f"t{i:02}") for i in range(9)]
    first = await client.get(
        f"/api/{owner}/tasks", params={"limit": 4, "sort": "title"}, headers=token_for(owner)
    )
    seen = [task["id"] for task in first.json()]
    # Changes between pages: a new task sorting first, and a deletion of one already seen.
    await make_task(client, owner, title="a-new-first")
    await client.delete(f"/api/{owner}/tasks/{seen[0]}", headers=token_for(owner))
    rest, _ = await list_all(
        client, owner, limit=4, sort="title", cursor=first.headers["x-next-cursor"]
    )
    assert seen + [task["id"] for task in rest] == [task["id"] for task in created]


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "101"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"status": "done"}, "query.status"),
        ({"sort": "urgency"}, "query.sort"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "x" * 513}, "query.cursor"),
    ],
)
async def test_invalid_list_parameters_are_422(
    client: httpx.AsyncClient, owner: str, params: dict[str, str], location: str
) -> None:
    response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
    assert response.status_code == 422
    assert [issue["location"] for issue in response.json()["errors"]] == [location]


async def test_cursor_of_another_order_is_422(client: httpx.AsyncClient, owner: str) -> None:
    for index in range(3):
        await make_task(client, owner, title=f"t{index}")
    first = await client.get(f"/api/{owner}/tasks", params={"limit": 1}, headers=token_for(owner))
    cursor = first.headers["x-next-cursor"]
    response = await client.get(
        f"/api/{owner}/tasks",
        params={"limit": 1, "cursor": cursor, "sort": "title"},
        headers=token_for(owner),
    )
    assert response.status_code == 422
    assert "sort" in response.json()["errors"][0]["message"]
