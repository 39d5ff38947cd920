"""The reminder list (listTasks with sort=remind_at, remind_from, remind_to), over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio

Task = dict[str, Any]


async def reminders(
    client: httpx.AsyncClient, owner: str, **params: Any
) -> tuple[list[Task], str | None]:
    response = await client.get(
        f"/api/{owner}/tasks",
        params={"sort": "remind_at", **params},
        headers=token_for(owner),
    )
    assert response.status_code == 200, response.text
    tasks: list[Task] = response.json()
    return tasks, response.headers.get("X-Next-Cursor")


async def reminder_task(
    client: httpx.AsyncClient, owner: str, due_time: str, minutes: int, **fields: Any
) -> Task:
    """A task due 2027-05-10 at `due_time` UTC, reminded `minutes` before."""
    return await make_task(
        client,
        owner,
        due_date="2027-05-10",
        due_time=due_time,
        remind_before_minutes=minutes,
        **fields,
    )


async def test_only_pending_tasks_with_a_reminder_are_listed_earliest_first(
    client: httpx.AsyncClient, owner: str
) -> None:
    late = await reminder_task(client, owner, "12:00", 0)  # 12:00Z
    early = await reminder_task(client, owner, "12:00", 120)  # 10:00Z
    tie_a = await reminder_task(client, owner, "11:30", 30)  # 11:00Z
    tie_b = await reminder_task(client, owner, "11:00", 0)  # 11:00Z, later id
    berlin = await reminder_task(client, owner, "12:30", 0, time_zone="Europe/Berlin")  # 10:30Z
    await make_task(client, owner)  # no due day
    await make_task(client, owner, due_date="2027-05-10", due_time="09:00")  # no reminder
    done = await reminder_task(client, owner, "09:00", 0)
    response = await client.patch(
        f"/api/{owner}/tasks/{done['id']}/complete", headers=token_for(owner)
    )
    assert response.json()["completed"] is True
    listed, cursor = await reminders(client, owner)
    assert [task["id"] for task in listed] == [
        early["id"],
        berlin["id"],
        tie_a["id"],
        tie_b["id"],
        late["id"],
    ]
    assert cursor is None
    assert [task["remind_at"] for task in listed] == sorted(task["remind_at"] for task in listed)
    assert all(task["completed"] is False for task in listed)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param({}, ["09:00", "10:00", "11:00", "12:00"], id="none"),
        pytest.param(
            {"remind_from": "2027-05-10T10:00:00Z"}, ["10:00", "11:00", "12:00"], id="from"
        ),
        pytest.param({"remind_to": "2027-05-10T11:00:00Z"}, ["09:00", "10:00"], id="to"),
        pytest.param(
            {"remind_from": "2027-05-10T10:00:00Z", "remind_to": "2027-05-10T12:00:00Z"},
            ["10:00", "11:00"],
            id="from-to",
        ),
        pytest.param(
            {"remind_from": "2027-05-10T12:00:00+02:00", "remind_to": "2027-05-10T13:00:01+02:00"},
            ["10:00", "11:00"],
            id="offsets",
        ),
        pytest.param(
            {"remind_from": "2027-05-10T10:00:00Z", "remind_to": "2027-05-10T10:00:00Z"},
            [],
            id="empty",
        ),
        pytest.param(
            {"remind_from": "2027-05-10T10:00:01Z", "remind_to": "2027-05-10T10:59:59Z"},
            [],
            id="between",
        ),
    ],
)
async def test_the_window_is_from_inclusive_to_exclusive(
    client: httpx.AsyncClient, owner: str, window: dict[str, str], expected: list[str]
) -> None:
    for due_time in ("11:00", "09:00", "12:00", "10:00"):
        await reminder_task(client, owner, due_time, 0)
    listed, _ = await reminders(client, owner, **window)
    assert [task["due_time"] for task in listed] == expected


async def test_pages_return_every_reminder_once_in_order(
    client: httpx.AsyncClient, owner: str
) -> None:
    # Seven tasks, two sharing each reminder moment but one: ties are broken by id.
    made = [
        await reminder_task(client, owner, due_time, minutes)
        for due_time, minutes in [
            ("10:00", 0),
            ("09:00", 0),
            ("10:30", 30),
            ("08:00", 0),
            ("09:15", 15),
            ("11:00", 0),
            ("08:00", 0),
        ]
    ]
    window = {"remind_from": "2027-05-10T08:00:00Z", "remind_to": "2027-05-10T11:00:00Z"}
    expected = sorted(
        (task for task in made if task["due_time"] != "11:00"),
        key=lambda task: (task["remind_at"], task["id"]),
    )
    seen: list[Task] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {**window, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page, cursor = await reminders(client, owner, **params)
        assert len(page) <= 2
        seen += page
        if cursor is None:
            break
    assert [task["id"] for task in seen] == [task["id"] for task in expected]
    assert seen == expected


async def test_a_cursor_of_another_window_is_422(client: httpx.AsyncClient, owner: str) -> None:
    for due_time in ("09:00", "10:00", "11:00"):
        await reminder_task(client, owner, due_time, 0)
    window = {"remind_from": "2027-05-10T09:00:00Z"}
    _, cursor = await reminders(client, owner, limit=1, **window)
    assert cursor is not None
    for other in (
        {"remind_from": "2027-05-10T09:30:00Z"},
        {**window, "remind_to": "2027-05-11T00:00:00Z"},
        {},
    ):
        response = await client.get(
            f"/api/{owner}/tasks",
            params={"sort": "remind_at", "limit": 1, "cursor": cursor, **other},
            headers=token_for(owner),
        )
        assert response.status_code == 422, (other, response.text)
        assert response.json()["errors"][0]["location"] == "query.cursor"
    # The same instant written with another offset is the same window.
    page, _ = await reminders(
        client, owner, limit=1, cursor=cursor, remind_from="2027-05-10T11:00:00+02:00"
    )
    assert [task["due_time"] for task in page] == ["10:00"]


@pytest.mark.parametrize(
    ("params", "location"),
    [
        pytest.param({"remind_from": "2027-05-10T09:00:00Z"}, "query.remind_from", id="from"),
        pytest.param({"remind_to": "2027-05-10T09:00:00Z"}, "query.remind_to", id="to"),
        pytest.param(
            {"sort": "due_date", "remind_from": "2027-05-10T09:00:00Z"},
            "query.remind_from",
            id="other-sort",
        ),
        pytest.param(
            {
                "sort": "remind_at",
                "remind_from": "2027-05-10T09:00:00Z",
                "remind_to": "2027-05-10T08:59:59Z",
            },
            "query.remind_to",
            id="to-before-from",
        ),
        pytest.param(
            {"sort": "remind_at", "remind_from": "2027-05-10T09:00:00"},
            "query.remind_from",
            id="naive-from",
        ),
        pytest.param(
            {"sort": "remind_at", "remind_to": "2027-05-10T09:00:00"},
            "query.remind_to",
            id="naive-to",
        ),
        pytest.param(
            {"sort": "remind_at", "remind_from": "2027-05-10"}, "query.remind_from", id="date"
        ),
    ],
)
async def test_an_invalid_window_is_422_naming_the_parameter(
    client: httpx.AsyncClient, owner: str, params: dict[str, str], location: str
) -> None:
    await reminder_task(client, owner, "09:00", 0)
    response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["location"] == location


async def test_completing_removes_the_task_and_lists_its_next_occurrence(
    client: httpx.AsyncClient, owner: str
) -> None:
    single = await reminder_task(client, owner, "08:00", 0)
    recurring = await reminder_task(client, owner, "09:00", 10, recurrence="FREQ=DAILY")
    listed, _ = await reminders(client, owner)
    assert [task["id"] for task in listed] == [single["id"], recurring["id"]]
    response = await client.patch(
        f"/api/{owner}/tasks/{recurring['id']}/complete",
        json={"completed": True},
        headers=token_for(owner),
    )
    following = response.json()["next_occurrence_id"]
    listed, _ = await reminders(client, owner)
    assert [task["id"] for task in listed] == [single["id"], following]
    assert listed[1]["remind_at"].startswith("2027-05-11T08:50")
    response = await client.patch(
        f"/api/{owner}/tasks/{single['id']}/complete", headers=token_for(owner)
    )
    assert response.json()["completed"] is True
    listed, _ = await reminders(client, owner)
    assert [task["id"] for task in listed] == [following]
    # Un-completing puts it back; removing the reminder takes it off.
    await client.patch(f"/api/{owner}/tasks/{single['id']}/complete", headers=token_for(owner))
    await client.put(
        f"/api/{owner}/tasks/{following}",
        json={"remind_before_minutes": None},
        headers=token_for(owner),
    )
    listed, _ = await reminders(client, owner)
    assert [task["id"] for task in listed] == [single["id"]]
