"""Every date and moment the contract admits, at the calendar's ends, on both databases.

A day from 0001-01-01 to 9999-12-31, in any zone, east or west of UTC: a write is created
and reads back in every list and get, or is refused with a 422 naming the field and stores
nothing. No request in this file may answer 5xx: the client here returns the server's 500
as a response instead of raising the app's exception, so a test sees what a client sees.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from generated.models import TaskSort
from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio

Task = dict[str, Any]
SORTS = [sort.value for sort in TaskSort]


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets a 500 as a response, as a real client would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def every_list(http: httpx.AsyncClient, owner: str) -> dict[str, list[int]]:
    """The ids of the owner's tasks in each order: every list must read."""
    listed = {}
    for sort in SORTS:
        response = await http.get(
            f"/api/{owner}/tasks", params={"sort": sort, "limit": 100}, headers=token_for(owner)
        )
        assert response.status_code == 200, (sort, response.text)
        listed[sort] = [task["id"] for task in response.json()]
    return listed


async def readable(http: httpx.AsyncClient, owner: str, task: Task) -> Task:
    """The task as a get reads it, after checking every list of the owner reads."""
    lists = await every_list(http, owner)
    assert task["id"] in lists["created"]
    response = await http.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert response.status_code == 200, response.text
    got: Task = response.json()
    return got


# --- Writes at the ends -----------------------------------------------------------------

# (body, what is stored) for bodies the contract admits: due_at and remind_at in UTC.
CREATED = [
    ({"due_date": "0362-06-25", "due_time": "09:00"}, ("0362-06-25T09:00:00Z", None)),
    (
        {"due_date": "1000-01-01", "due_time": "00:30", "time_zone": "Etc/GMT-14"},
        ("0999-12-31T10:30:00Z", None),
    ),
    (
        {"due_date": "1000-01-02", "due_time": "00:00", "remind_before_minutes": 40320},
        ("1000-01-02T00:00:00Z", "0999-12-05T00:00:00Z"),
    ),
    ({"due_date": "0001-01-01", "due_time": "00:00"}, ("0001-01-01T00:00:00Z", None)),
    (
        {"due_date": "0001-01-01", "due_time": "14:00", "time_zone": "Etc/GMT-14"},
        ("0001-01-01T00:00:00Z", None),
    ),
    (
        {"due_date": "9999-12-31", "due_time": "23:59", "time_zone": "Pacific/Kiritimati"},
        ("9999-12-31T09:59:00Z", None),
    ),
    (
        {"due_date": "9999-12-31", "due_time": "11:59", "time_zone": "Etc/GMT+12"},
        ("9999-12-31T23:59:00Z", None),
    ),
    ({"due_date": "0001-01-01"}, (None, None)),
    ({"due_date": "9999-12-31", "time_zone": "Etc/GMT+12"}, (None, None)),
]
# Bodies whose moment falls outside the years 1 to 9999 in UTC: a 422 naming the field.
REFUSED = [
    ({"due_date": "0001-01-01", "due_time": "13:59", "time_zone": "Etc/GMT-14"}, "due_time"),
    ({"due_date": "9999-12-31", "due_time": "12:00", "time_zone": "Etc/GMT+12"}, "due_time"),
    (
        {"due_date": "9999-12-31", "due_time": "20:00", "time_zone": "America/Los_Angeles"},
        "due_time",
    ),
    (
        {"due_date": "0001-01-01", "due_time": "00:00", "remind_before_minutes": 1},
        "remind_before_minutes",
    ),
]


@pytest.mark.parametrize(("fields", "stored"), CREATED)
async def test_a_moment_at_the_calendars_ends_is_created_and_every_list_reads(
    http: httpx.AsyncClient, owner: str, fields: dict[str, Any], stored: tuple[Any, Any]
) -> None:
    response = await http.post(
        f"/api/{owner}/tasks", json={"title": "old", **fields}, headers=token_for(owner)
    )
    assert response.status_code == 201, response.text
    task = await readable(http, owner, response.json())
    assert (task["due_at"], task["remind_at"]) == stored
    assert task["due_date"] == fields["due_date"]


@pytest.mark.parametrize(("fields", "stored"), CREATED)
async def test_the_same_moment_set_by_a_replace_or_an_idempotent_create_reads_back(
    http: httpx.AsyncClient, owner: str, fields: dict[str, Any], stored: tuple[Any, Any]
) -> None:
    task = await make_task(http, owner)
    replaced = await http.put(
        f"/api/{owner}/tasks/{task['id']}",
        json={"title": "old", **fields},
        headers=token_for(owner),
    )
    assert replaced.status_code == 200, replaced.text
    assert ((await readable(http, owner, task))["due_at"]) == stored[0]
    keyed = await http.post(
        f"/api/{owner}/tasks",
        json={"title": "keyed", **fields},
        headers={**token_for(owner), "Idempotency-Key": "calendar-end"},
    )
    assert keyed.status_code == 201, keyed.text
    again = await http.post(
        f"/api/{owner}/tasks",
        json={"title": "keyed", **fields},
        headers={**token_for(owner), "Idempotency-Key": "calendar-end"},
    )
    assert again.status_code == 201, again.text
    assert again.json() == keyed.json()
    assert (await readable(http, owner, keyed.json()))["remind_at"] == stored[1]


@pytest.mark.parametrize(("fields", "field"), REFUSED)
async def test_a_moment_past_the_calendars_ends_is_refused_naming_the_field_and_stores_nothing(
    http: httpx.AsyncClient, owner: str, fields: dict[str, Any], field: str
) -> None:
    kept = await make_task(http, owner)
    before = await every_list(http, owner)
    created = await http.post(
        f"/api/{owner}/tasks", json={"title": "t", **fields}, headers=token_for(owner)
    )
    replaced = await http.put(
        f"/api/{owner}/tasks/{kept['id']}", json={"title": "t", **fields}, headers=token_for(owner)
    )
    for response in (created, replaced):
        assert response.status_code == 422, response.text
        assert [error["location"] for error in response.json()["errors"]] == [f"body.{field}"]
    assert await every_list(http, owner) == before
    assert await readable(http, owner, kept) == kept


# --- Completing at the end --------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "next_due_at"),
    [
        ("UTC", "9999-12-31T20:00:00Z"),
        ("Pacific/Kiritimati", "9999-12-31T06:00:00Z"),
        ("America/Los_Angeles", None),  # 9999-12-31 20:00 there is in the year 10000 in UTC
    ],
)
async def test_a_daily_task_completed_on_the_calendars_last_days(
    http: httpx.AsyncClient, owner: str, zone: str, next_due_at: str | None
) -> None:
    task = await make_task(
        http,
        owner,
        due_date="9999-12-30",
        due_time="20:00",
        time_zone=zone,
        recurrence="FREQ=DAILY",
    )
    response = await http.patch(
        f"/api/{owner}/tasks/{task['id']}/complete", headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    completed = response.json()
    assert completed["completed"] is True
    if next_due_at is None:
        assert completed["next_occurrence_id"] is None
        assert (await every_list(http, owner))["created"] == [task["id"]]
        return
    following = await readable(http, owner, {"id": completed["next_occurrence_id"]})
    assert (following["due_date"], following["due_at"]) == ("9999-12-31", next_due_at)


# --- Reminder windows at the ends -------------------------------------------------------

FIRST = "0001-01-01T00:00:00+14:00"  # before 0001-01-01 in UTC
LAST = "9999-12-31T23:59:59-14:00"  # after 9999-12-31 in UTC
PAST_THE_END = "9999-12-31T23:59:59-00:01"
NOW = "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("window", "listed"),
    [
        ({"remind_from": FIRST}, [0, 1, 2]),
        ({"remind_to": LAST}, [0, 1, 2]),
        ({"remind_from": FIRST, "remind_to": LAST}, [0, 1, 2]),
        ({"remind_from": PAST_THE_END}, []),
        ({"remind_to": FIRST}, []),
        ({"remind_from": "0001-01-01T00:00:00Z", "remind_to": "0001-01-01T00:01:00Z"}, [0]),
        ({"remind_from": "9999-12-31T23:58:00+00:00", "remind_to": LAST}, [2]),
    ],
)
async def test_a_reminder_window_at_the_calendars_ends_pages_through_its_tasks(
    http: httpx.AsyncClient, owner: str, window: dict[str, str], listed: list[int]
) -> None:
    tasks = [
        await make_task(
            http, owner, due_date="0001-01-01", due_time="00:00", remind_before_minutes=0
        ),
        await make_task(
            http, owner, due_date="2027-05-10", due_time="09:00", remind_before_minutes=5
        ),
        await make_task(
            http,
            owner,
            due_date="9999-12-31",
            due_time="11:58",
            time_zone="Etc/GMT+12",
            remind_before_minutes=0,
        ),
    ]
    params: dict[str, Any] = {"sort": "remind_at", "limit": 1, **window}
    seen: list[int] = []
    for _ in range(len(tasks) + 1):
        response = await http.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
        assert response.status_code == 200, response.text
        seen += [task["id"] for task in response.json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        params["cursor"] = cursor
    assert seen == [tasks[index]["id"] for index in listed]


# --- Cursors the server did not issue ---------------------------------------------------


def forged(*fields: object) -> str:
    raw = json.dumps(list(fields)).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        pytest.param("created", forged("created", "all", NOW, 2**63), id="created-id-2^63"),
        pytest.param("title", forged("title", "all", "a", 2**63), id="title-id-2^63"),
        pytest.param("due_date", forged("due_date", "all", "2026-01-01", 2**64), id="day-id-2^64"),
        pytest.param("priority", forged("priority", "all", [2, NOW], 2**63), id="priority-2^63"),
        pytest.param("remind_at", forged("remind_at", "all", NOW, 2**63), id="remind-id-2^63"),
        pytest.param("title", forged("title", "all", "\ud800", 1), id="title-lone-surrogate"),
        pytest.param("title", forged("title", "all", "a\u0000", 1), id="title-nul"),
        pytest.param("created", forged("created", "all", LAST, 1), id="created-after-9999"),
        pytest.param("created", forged("created", "all", FIRST, 1), id="created-before-0001"),
        pytest.param("remind_at", forged("remind_at", "all", PAST_THE_END, 1), id="remind-after"),
        pytest.param("priority", forged("priority", "all", [2, FIRST], 1), id="priority-before"),
    ],
)
async def test_a_forged_cursor_is_422_naming_the_cursor(
    http: httpx.AsyncClient, owner: str, sort: str, cursor: str
) -> None:
    await make_task(http, owner, due_date="2027-05-10", due_time="09:00", remind_before_minutes=0)
    response = await http.get(
        f"/api/{owner}/tasks", params={"sort": sort, "cursor": cursor}, headers=token_for(owner)
    )
    assert response.status_code == 422, response.text
    assert [error["location"] for error in response.json()["errors"]] == ["query.cursor"]


async def test_a_list_sorted_by_long_non_latin_titles_pages_with_the_cursors_it_issues(
    http: httpx.AsyncClient, owner: str
) -> None:
    titles = ["🎉" * 200, "界" * 200, "é" * 200]
    created = [await make_task(http, owner, title=title) for title in titles]
    params: dict[str, Any] = {"sort": "title", "limit": 1}
    seen: list[int] = []
    for _ in titles:
        response = await http.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
        assert response.status_code == 200, response.text
        seen += [task["id"] for task in response.json()]
        params["cursor"] = response.headers.get("X-Next-Cursor")
    assert params["cursor"] is None
    assert sorted(seen) == sorted(task["id"] for task in created)
    assert len(set(seen)) == len(titles)
