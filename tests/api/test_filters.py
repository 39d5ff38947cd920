"""List filters and the priority sort: every filter with every order, page by page, against
the contract's own words (an oracle written from the spec), on both databases."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.test_list import list_all
from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio

RANKS = {"high": 3, "medium": 2, "low": 1}
TAGS = ("home", "work", "urgent", "later")
WORDS = ("milk", "Bread", "ÉTÉ", "été", "report", "call", "x%y", "a_b")
SORTS = ("created", "title", "due_date", "priority")
FILTERS: list[dict[str, Any]] = [
    {},
    {"priority": "high"},
    {"priority": "low", "status": "pending"},
    {"tag": ["home"]},
    {"tag": ["home", "urgent"]},
    {"due_from": "2026-03-05"},
    {"due_to": "2026-03-05"},
    {"due_from": "2026-03-03", "due_to": "2026-03-08", "priority": "medium"},
    {"q": "milk"},
    {"q": "été"},
    {"q": "BREAD milk"},
    {"q": "x%y"},
    {"q": "_"},
    {"q": "ét", "tag": ["work"]},
    {"q": "report", "status": "completed", "due_from": "2026-03-01"},
]


def fold(text: str) -> str:
    """The spec's folding: NFC of the full case folding of the canonical decomposition."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def matches(task: dict[str, Any], query: dict[str, Any]) -> bool:
    status = query.get("status", "all")
    if status != "all" and task["completed"] != (status == "completed"):
        return False
    if "priority" in query and task["priority"] != query["priority"]:
        return False
    if not set(query.get("tag", [])) <= set(task["tags"]):
        return False
    due = date.fromisoformat(task["due_date"]) if task["due_date"] else None
    for bound, later in (("due_from", True), ("due_to", False)):
        if bound in query:
            limit = date.fromisoformat(query[bound])
            if due is None or (due < limit if later else due > limit):
                return False
    text = (fold(task["title"]), fold(task["description"] or ""))
    return all(any(fold(word) in part for part in text) for word in query.get("q", "").split())


def ordered(tasks: list[dict[str, Any]], sort: str) -> list[int]:
    def created(task: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(task["created_at"])

    if sort == "created":
        tasks = sorted(tasks, key=lambda t: (created(t), t["id"]), reverse=True)
    elif sort == "title":
        tasks = sorted(tasks, key=lambda t: (t["title"], t["id"]))
    elif sort == "priority":
        tasks = sorted(
            tasks, key=lambda t: (RANKS[t["priority"]], created(t), t["id"]), reverse=True
        )
    else:
        dated = sorted((t for t in tasks if t["due_date"]), key=lambda t: (t["due_date"], t["id"]))
        tasks = dated + sorted((t for t in tasks if not t["due_date"]), key=lambda t: t["id"])
    return [task["id"] for task in tasks]


async def seeded_tasks(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    chance = random.Random(20261201)
    tasks = []
    for index in range(36):
        words = chance.sample(WORDS, k=2)
        due = date(2026, 3, 1) + timedelta(days=chance.randrange(10))
        fields: dict[str, Any] = {
            "title": f"{words[0]} {chance.choice('ABC')}{index % 4}",
            "description": None if index % 5 == 0 else f"about {words[1]}",
            "due_date": None if index % 3 == 0 else due.isoformat(),
            "priority": chance.choice(list(RANKS)),
            "tags": chance.sample(TAGS, k=chance.randrange(len(TAGS) + 1)),
        }
        task = await make_task(client, owner, **fields)
        if index % 4 == 0:
            toggled = await client.patch(
                f"/api/{owner}/tasks/{task['id']}/complete", headers=token_for(owner)
            )
            task = toggled.json()
        tasks.append(task)
    return tasks


@pytest.mark.parametrize(
    ("window_rows", "few_matches"),
    [(None, None), (3, 0), (7, 0), (3, None), (7, 3)],
    ids=["window-default", "window-3", "window-7", "window-3-probed", "window-7-probed-3"],
)
async def test_every_filter_with_every_order_pages_to_the_specified_list(
    client: httpx.AsyncClient,
    owner: str,
    window_rows: int | None,
    few_matches: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small windows make SQLite's lists with a tag or words take both of their steps (a
    window of the range, then the matches), at every page; with no tag or words counted as
    few (0), every list reads its window; with the default bound (more than these tasks)
    every one starts from its matches; with 3, some do and others read their window."""
    import backend.queries.listing
    import backend.queries.match_probe

    if window_rows is not None:
        monkeypatch.setattr(backend.queries.listing, "WINDOW_ROWS", window_rows)
    if few_matches is not None:
        monkeypatch.setattr(backend.queries.match_probe, "FEW_MATCHES", few_matches)
    tasks = await seeded_tasks(client, owner)
    for query in FILTERS:
        wanted = [task for task in tasks if matches(task, query)]
        for sort in SORTS:
            listed, _ = await list_all(client, owner, limit=4, sort=sort, **query)
            assert [task["id"] for task in listed] == ordered(wanted, sort), (query, sort)
    assert any(matches(task, {"q": "ÉTÉ"}) for task in tasks)  # the data exercises folding


async def test_priority_filter_alone_keeps_the_newest_first_order(
    client: httpx.AsyncClient, owner: str
) -> None:
    created = [await make_task(client, owner, priority=p) for p in ("high", "low", "high")]
    response = await client.get(
        f"/api/{owner}/tasks", params={"priority": "high"}, headers=token_for(owner)
    )
    assert [task["id"] for task in response.json()] == [created[2]["id"], created[0]["id"]]


async def test_a_cursor_is_refused_with_other_filters(
    client: httpx.AsyncClient, owner: str
) -> None:
    for _ in range(3):
        await make_task(client, owner, title="milk", tags=["home"], priority="high")
    headers = token_for(owner)
    issued_for: dict[str, Any] = {"limit": 1, "tag": "home", "q": "milk"}
    first = await client.get(f"/api/{owner}/tasks", params=issued_for, headers=headers)
    cursor = first.headers["x-next-cursor"]
    same = await client.get(
        f"/api/{owner}/tasks", params={**issued_for, "cursor": cursor}, headers=headers
    )
    assert same.status_code == 200
    for changed in (
        {"q": "MILK  x"},
        {"tag": ["home", "work"]},
        {"priority": "high"},
        {"due_from": "2026-01-01"},
        {"due_to": "2026-01-01"},
        {"q": None},
    ):
        params = {key: value for key, value in {**issued_for, **changed}.items() if value}
        response = await client.get(
            f"/api/{owner}/tasks", params={**params, "cursor": cursor}, headers=headers
        )
        assert response.status_code == 422, (changed, response.text)
        assert response.json()["errors"][0]["location"] == "query.cursor"


async def test_an_unfiltered_cursor_is_refused_by_a_filtered_list(
    client: httpx.AsyncClient, owner: str
) -> None:
    for _ in range(2):
        await make_task(client, owner)
    headers = token_for(owner)
    first = await client.get(f"/api/{owner}/tasks", params={"limit": 1}, headers=headers)
    cursor = first.headers["x-next-cursor"]
    response = await client.get(
        f"/api/{owner}/tasks",
        params={"limit": 1, "priority": "medium", "cursor": cursor},
        headers=headers,
    )
    assert response.status_code == 422


async def test_the_same_words_in_another_order_or_case_keep_the_cursor(
    client: httpx.AsyncClient, owner: str
) -> None:
    for _ in range(2):
        await make_task(client, owner, title="milk and bread")
    headers = token_for(owner)
    first = await client.get(
        f"/api/{owner}/tasks", params={"limit": 1, "q": "milk bread"}, headers=headers
    )
    response = await client.get(
        f"/api/{owner}/tasks",
        params={"limit": 1, "q": "BREAD  Milk", "cursor": first.headers["x-next-cursor"]},
        headers=headers,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"priority": "urgent"}, "query.priority"),
        ({"tag": "has space"}, "query.tag.0"),
        ({"tag": "Upper"}, "query.tag.0"),
        ({"tag": ["a", "b", "c", "d", "e", "f"]}, "query.tag"),
        ({"tag": "x" * 33}, "query.tag.0"),
        ({"due_from": "2026-03-02", "due_to": "2026-03-01"}, "query.due_to"),
        ({"due_from": "0"}, "query.due_from"),
        ({"due_to": "2026-03-01T00:00:00"}, "query.due_to"),
        ({"due_to": "2026-02-30"}, "query.due_to"),
        ({"q": ""}, "query.q"),
        ({"q": "x" * 101}, "query.q"),
        ({"q": "nul\x00"}, "query.q"),
        ({"sort": "urgency"}, "query.sort"),
    ],
)
async def test_invalid_filters_are_422_naming_the_parameter(
    client: httpx.AsyncClient, owner: str, params: dict[str, Any], location: str
) -> None:
    response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
    assert response.status_code == 422, response.text
    locations = [issue["location"] for issue in response.json()["errors"]]
    assert location in locations
    assert location in response.json()["detail"]


async def test_limits_of_the_filters_are_accepted(client: httpx.AsyncClient, owner: str) -> None:
    task = await make_task(
        client, owner, title="x" * 100, tags=["a", "b", "c", "d", "e"], due_date="2026-03-01"
    )
    response = await client.get(
        f"/api/{owner}/tasks",
        params={
            "q": "x" * 100,
            "tag": ["a", "b", "c", "d", "e"],
            "due_from": "2026-03-01",
            "due_to": "2026-03-01",
        },
        headers=token_for(owner),
    )
    assert response.status_code == 200, response.text
    assert [found["id"] for found in response.json()] == [task["id"]]


async def test_lists_work_once_the_statement_cache_is_full(
    client: httpx.AsyncClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shapes past the cache's bound are compiled per request, with the same answers."""
    import backend.queries.statements

    monkeypatch.setattr(backend.queries.statements, "MAX_CACHED_STATEMENTS", 0)
    task = await make_task(client, owner, title="cache miss", tags=["c"], priority="low")
    for params in ({"q": "miss cache"}, {"tag": "c", "priority": "low", "sort": "due_date"}):
        response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
        assert [found["id"] for found in response.json()] == [task["id"]], params
