"""Due times in IANA time zones and recurring tasks (contract 1.4.0), over HTTP, on both databases.

Each completion of a recurring task is followed to its next occurrence, which is read back
with GET and counted with a list: the stored state, not only the response, is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio

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


async def following(client: httpx.AsyncClient, owner: str, task: Task) -> Task:
    """Complete `task` and return its next occurrence, as stored."""
    done = await complete(client, owner, task["id"], {"completed": True})
    assert done["completed"] is True
    assert done["next_occurrence_id"] is not None, done
    assert done["next_occurrence_id"] != task["id"]
    assert (await read(client, owner, task["id"])) == done
    return await read(client, owner, done["next_occurrence_id"])


async def chain(client: httpx.AsyncClient, owner: str, task: Task, steps: int) -> list[Task]:
    """`task` and the `steps` occurrences completing each in turn creates."""
    tasks = [task]
    for _ in range(steps):
        tasks.append(await following(client, owner, tasks[-1]))
    return tasks


# --- Day, time and time zone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due_at"),
    [
        # Summer time begins on Sunday 2027-03-28: 09:00 in Berlin is 08:00Z, then 07:00Z.
        pytest.param(
            "2027-03-15",
            [at(2027, 3, 15, 8), at(2027, 3, 22, 8), at(2027, 3, 29, 7), at(2027, 4, 5, 7)],
            id="march",
        ),
        # Summer time ends on Sunday 2027-10-31: 07:00Z, then 08:00Z again.
        pytest.param(
            "2027-10-18",
            [at(2027, 10, 18, 7), at(2027, 10, 25, 7), at(2027, 11, 1, 8), at(2027, 11, 8, 8)],
            id="october",
        ),
    ],
)
async def test_weekly_at_nine_in_berlin_stays_nine_across_daylight_saving(
    client: httpx.AsyncClient, owner: str, start: str, due_at: list[datetime]
) -> None:
    first = await make_task(
        client,
        owner,
        due_date=start,
        due_time="09:00",
        time_zone="Europe/Berlin",
        recurrence="FREQ=WEEKLY;BYDAY=MO",
    )
    tasks = await chain(client, owner, first, len(due_at) - 1)
    days = [date.fromisoformat(start) + timedelta(weeks=week) for week in range(len(due_at))]
    assert [task["due_date"] for task in tasks] == [day.isoformat() for day in days]
    assert {task["due_time"] for task in tasks} == {"09:00"}
    assert {task["time_zone"] for task in tasks} == {"Europe/Berlin"}
    assert [utc(task["due_at"]) for task in tasks] == due_at
    assert len(await every_task(client, owner)) == len(due_at)


@pytest.mark.parametrize(
    ("due_date", "due_time", "due_at"),
    [
        # 02:30 does not exist on 2027-03-28 in Berlin: the time before the change, 03:30 CEST.
        pytest.param("2027-03-28", "02:30", at(2027, 3, 28, 1, 30), id="skipped"),
        # 02:30 occurs twice on 2027-10-31 in Berlin: the first, still in summer time.
        pytest.param("2027-10-31", "02:30", at(2027, 10, 31, 0, 30), id="repeated"),
        pytest.param("2027-07-01", "00:00", at(2027, 6, 30, 22), id="midnight-summer"),
        pytest.param("2027-01-01", "23:59", at(2027, 1, 1, 22, 59), id="before-midnight"),
    ],
)
async def test_a_local_time_on_a_change_day_is_read_as_the_contract_says(
    client: httpx.AsyncClient, owner: str, due_date: str, due_time: str, due_at: datetime
) -> None:
    task = await make_task(
        client, owner, due_date=due_date, due_time=due_time, time_zone="Europe/Berlin"
    )
    assert (task["due_date"], task["due_time"]) == (due_date, due_time)
    assert utc(task["due_at"]) == due_at
    assert await read(client, owner, task["id"]) == task


async def test_a_daily_time_that_summer_time_skips_recurs_at_the_same_wall_time(
    client: httpx.AsyncClient, owner: str
) -> None:
    first = await make_task(
        client,
        owner,
        due_date="2027-03-27",
        due_time="02:30",
        time_zone="Europe/Berlin",
        recurrence="FREQ=DAILY",
    )
    tasks = await chain(client, owner, first, 2)
    assert [task["due_time"] for task in tasks] == ["02:30"] * 3
    assert [utc(task["due_at"]) for task in tasks] == [
        at(2027, 3, 27, 1, 30),  # CET
        at(2027, 3, 28, 1, 30),  # skipped: read before the change, 03:30 CEST
        at(2027, 3, 29, 0, 30),  # CEST
    ]


async def test_a_task_without_the_new_fields_is_due_on_a_day_in_utc(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, due_date="2027-05-01")
    assert task["time_zone"] == "UTC"
    for name in (
        "due_time",
        "due_at",
        "recurrence",
        "next_occurrence_id",
        "remind_before_minutes",
        "remind_at",
    ):
        assert task[name] is None, name
    done = await complete(client, owner, task["id"])
    assert done["next_occurrence_id"] is None
    assert [t["id"] for t in await every_task(client, owner)] == [task["id"]]


# --- Where the rule falls -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "recurrence", "expected"),
    [
        pytest.param("2027-01-31", "FREQ=MONTHLY", ["2027-03-31", "2027-05-31"], id="31st"),
        pytest.param(
            "2027-01-31",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            ["2027-02-28", "2027-03-31", "2027-04-30"],
            id="last-day",
        ),
        pytest.param(
            "2028-01-31", "FREQ=MONTHLY;BYMONTHDAY=-1", ["2028-02-29"], id="last-day-leap"
        ),
        pytest.param("2028-02-29", "FREQ=YEARLY", ["2032-02-29", "2036-02-29"], id="29-feb"),
        pytest.param("2027-01-04", "FREQ=WEEKLY;INTERVAL=2", ["2027-01-18"], id="fortnightly"),
        pytest.param(
            "2027-01-06", "FREQ=WEEKLY;BYDAY=MO,FR", ["2027-01-08", "2027-01-11"], id="days"
        ),
        pytest.param(
            "2027-01-29", "FREQ=MONTHLY;BYDAY=-1FR", ["2027-02-26", "2027-03-26"], id="last-fri"
        ),
        pytest.param("2027-12-31", "FREQ=DAILY", ["2028-01-01"], id="new-year"),
    ],
)
async def test_the_next_occurrence_falls_where_the_rule_says(
    client: httpx.AsyncClient, owner: str, due_date: str, recurrence: str, expected: list[str]
) -> None:
    first = await make_task(client, owner, due_date=due_date, recurrence=recurrence)
    tasks = await chain(client, owner, first, len(expected))
    assert [task["due_date"] for task in tasks[1:]] == expected
    assert {task["recurrence"] for task in tasks} == {recurrence}
    assert {task["due_time"] for task in tasks} == {None}
    assert {task["due_at"] for task in tasks} == {None}


async def test_the_next_due_moment_follows_the_due_moment_not_the_completion(
    client: httpx.AsyncClient, owner: str
) -> None:
    """Completed years late, a weekly task is next due a week after its own due day."""
    first = await make_task(
        client,
        owner,
        due_date="2020-01-06",
        due_time="18:15",
        time_zone="America/New_York",
        recurrence="FREQ=WEEKLY",
    )
    second = await following(client, owner, first)
    assert (second["due_date"], second["due_time"]) == ("2020-01-13", "18:15")
    assert utc(second["due_at"]) == at(2020, 1, 13, 23, 15)


# --- COUNT and UNTIL ------------------------------------------------------------------------


async def test_count_goes_down_by_one_and_the_last_occurrence_creates_none(
    client: httpx.AsyncClient, owner: str
) -> None:
    first = await make_task(
        client, owner, due_date="2027-01-04", recurrence="INTERVAL=2;FREQ=DAILY;COUNT=2"
    )
    second = await following(client, owner, first)
    assert second["due_date"] == "2027-01-06"
    assert second["recurrence"] == "INTERVAL=2;FREQ=DAILY;COUNT=1"  # the client's order kept
    last = await complete(client, owner, second["id"], {"completed": True})
    assert last["completed"] is True
    assert last["next_occurrence_id"] is None
    assert await read(client, owner, second["id"]) == last
    assert [task["id"] for task in await every_task(client, owner)] == [first["id"], second["id"]]


@pytest.mark.parametrize(
    ("fields", "creates"),
    [
        # UNTIL as a day, in the task's time zone: the next Monday is 2027-01-11.
        pytest.param({"recurrence": "FREQ=WEEKLY;UNTIL=20270110"}, False, id="day-before"),
        pytest.param({"recurrence": "FREQ=WEEKLY;UNTIL=20270111"}, True, id="day-itself"),
        # UNTIL as a moment in UTC: the next is due 2027-01-11 09:00 Berlin, 08:00Z.
        pytest.param(
            {
                "due_time": "09:00",
                "time_zone": "Europe/Berlin",
                "recurrence": "FREQ=WEEKLY;UNTIL=20270111T075959Z",
            },
            False,
            id="moment-before",
        ),
        pytest.param(
            {
                "due_time": "09:00",
                "time_zone": "Europe/Berlin",
                "recurrence": "FREQ=WEEKLY;UNTIL=20270111T080000Z",
            },
            True,
            id="moment-itself",
        ),
        # A day in Tokyo: 2027-01-11 00:30 there is still 2027-01-10 in UTC.
        pytest.param(
            {
                "due_time": "00:30",
                "time_zone": "Asia/Tokyo",
                "recurrence": "FREQ=WEEKLY;UNTIL=20270110",
            },
            False,
            id="local-day",
        ),
    ],
)
async def test_until_is_the_last_day_or_moment_an_occurrence_may_fall_on(
    client: httpx.AsyncClient, owner: str, fields: dict[str, Any], creates: bool
) -> None:
    first = await make_task(client, owner, due_date="2027-01-04", **fields)
    done = await complete(client, owner, first["id"], {"completed": True})
    listed = await every_task(client, owner)
    if creates:
        assert done["next_occurrence_id"] is not None
        second = await read(client, owner, done["next_occurrence_id"])
        assert second["due_date"] == "2027-01-11"
        assert second["recurrence"] == fields["recurrence"]
        assert len(listed) == 2
    else:
        assert done["next_occurrence_id"] is None
        assert listed == [done]


# --- What the next occurrence carries -------------------------------------------------------


async def test_the_next_occurrence_carries_the_task_and_is_not_completed(
    client: httpx.AsyncClient, owner: str
) -> None:
    first = await make_task(
        client,
        owner,
        title="Water the plants",
        description="the ones on the balcony",
        priority="high",
        tags=["home", "garden"],
        due_date="2027-06-07",
        due_time="07:45",
        time_zone="Australia/Sydney",
        recurrence="FREQ=WEEKLY;BYDAY=MO,TH",
        remind_before_minutes=90,
    )
    response = await client.patch(
        f"{task_path(owner, first['id'])}/complete", headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["completed"] is True
    assert isinstance(done["next_occurrence_id"], int)
    assert await read(client, owner, first["id"]) == done
    second = await read(client, owner, done["next_occurrence_id"])
    assert second["id"] == done["next_occurrence_id"] != first["id"]
    carried = (
        "title",
        "description",
        "priority",
        "tags",
        "due_time",
        "time_zone",
        "recurrence",
        "remind_before_minutes",
        "user_id",
    )
    assert {name: second[name] for name in carried} == {name: first[name] for name in carried}
    assert second["tags"] == ["garden", "home"]
    assert second["completed"] is False
    assert second["next_occurrence_id"] is None
    assert second["due_date"] == "2027-06-10"  # the Thursday; Sydney is UTC+10 in June
    assert utc(second["due_at"]) == at(2027, 6, 9, 21, 45)
    assert utc(second["remind_at"]) == at(2027, 6, 9, 20, 15)
    assert second["created_at"] == second["updated_at"]
    assert [task["id"] for task in await every_task(client, owner)] == [first["id"], second["id"]]


async def test_an_update_that_completes_carries_what_it_changes(
    client: httpx.AsyncClient, owner: str
) -> None:
    first = await make_task(
        client,
        owner,
        title="old",
        priority="low",
        tags=["a"],
        due_date="2027-02-01",
        due_time="10:00",
        recurrence="FREQ=DAILY",
        remind_before_minutes=5,
    )
    done = await update(
        client,
        owner,
        first["id"],
        {
            "completed": True,
            "title": "new",
            "description": "now described",
            "priority": "high",
            "tags": ["b", "c"],
            "due_time": "11:30",
        },
    )
    assert done["completed"] is True
    assert (done["title"], done["priority"], done["due_time"]) == ("new", "high", "11:30")
    second = await read(client, owner, done["next_occurrence_id"])
    assert second["title"] == "new"
    assert second["description"] == "now described"
    assert second["priority"] == "high"
    assert second["tags"] == ["b", "c"]
    assert (second["due_date"], second["due_time"]) == ("2027-02-02", "11:30")
    assert utc(second["due_at"]) == at(2027, 2, 2, 11, 30)
    assert utc(second["remind_at"]) == at(2027, 2, 2, 11, 25)
    assert second["completed"] is False
    # The new task is found by the search of its carried text, as a created one would be.
    found = await client.get(
        f"/api/{owner}/tasks", params={"q": "DESCRIBED"}, headers=token_for(owner)
    )
    assert sorted(task["id"] for task in found.json()) == [first["id"], second["id"]]


# --- Exactly once ---------------------------------------------------------------------------

Step = Callable[[httpx.AsyncClient, str, int], Awaitable[Task]]


async def flip(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await complete(client, owner, task_id)


async def set_done(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await complete(client, owner, task_id, {"completed": True})


async def set_pending(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await complete(client, owner, task_id, {"completed": False})


async def put_done(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await update(client, owner, task_id, {"completed": True})


async def put_pending(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await update(client, owner, task_id, {"completed": False})


async def put_done_and_rename(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await update(client, owner, task_id, {"completed": True, "title": "renamed"})


async def put_done_and_move(client: httpx.AsyncClient, owner: str, task_id: int) -> Task:
    return await update(client, owner, task_id, {"completed": True, "due_time": "12:00"})


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([flip, flip], id="toggle-twice"),
        pytest.param([flip, flip, flip], id="toggle-thrice"),
        pytest.param([set_done, set_done], id="set-twice"),
        pytest.param([set_done, set_pending, set_done], id="set-unset-set"),
        pytest.param([put_done, put_done], id="put-twice"),
        pytest.param([put_done, put_pending, put_done], id="put-unput-put"),
        pytest.param([flip, put_pending, set_done], id="mixed"),
        pytest.param([put_done_and_rename, flip, put_done_and_rename], id="put-with-title"),
        pytest.param([put_done_and_move, put_pending, put_done_and_move], id="put-schedule"),
    ],
)
async def test_a_task_creates_its_next_occurrence_exactly_once(
    client: httpx.AsyncClient, owner: str, steps: list[Step]
) -> None:
    first = await make_task(
        client, owner, due_date="2027-09-01", due_time="08:00", recurrence="FREQ=DAILY"
    )
    answers = [await step(client, owner, first["id"]) for step in steps]
    next_ids = {answer["next_occurrence_id"] for answer in answers}
    assert len(next_ids) == 1, answers
    (next_id,) = next_ids
    assert isinstance(next_id, int)
    listed = await every_task(client, owner)
    assert [task["id"] for task in listed] == [first["id"], next_id]
    assert listed[0] == await read(client, owner, first["id"])
    assert listed[0]["next_occurrence_id"] == next_id  # un-completing keeps the link
    assert listed[0]["completed"] is answers[-1]["completed"]
    assert listed[1]["completed"] is False
    assert listed[1]["due_date"] == "2027-09-02"


async def test_un_completing_does_not_delete_the_next_occurrence(
    client: httpx.AsyncClient, owner: str
) -> None:
    first = await make_task(client, owner, due_date="2027-09-01", recurrence="FREQ=DAILY")
    second = await following(client, owner, first)
    pending = await set_pending(client, owner, first["id"])
    assert pending["completed"] is False
    assert pending["next_occurrence_id"] == second["id"]
    assert await read(client, owner, second["id"]) == second


async def test_changing_the_schedule_while_completing_again_creates_no_second_occurrence(
    client: httpx.AsyncClient, owner: str
) -> None:
    """Un-complete, then complete with an update that also moves the due time: the task has
    its next occurrence already, so none is created (the contract: at most one, ever)."""
    first = await make_task(
        client, owner, due_date="2027-09-01", due_time="08:00", recurrence="FREQ=DAILY"
    )
    second = await following(client, owner, first)
    await set_pending(client, owner, first["id"])
    again = await update(client, owner, first["id"], {"completed": True, "due_time": "09:00"})
    assert again["next_occurrence_id"] == second["id"]
    assert [task["id"] for task in await every_task(client, owner)] == [first["id"], second["id"]]


# --- Invalid schedules ----------------------------------------------------------------------

INVALID_RULES = [
    pytest.param("INTERVAL=2", id="no-freq"),
    pytest.param("FREQ=HOURLY", id="hourly"),
    pytest.param("FREQ=DAILY;INTERVAL=0", id="interval-0"),
    pytest.param("FREQ=DAILY;INTERVAL=1000", id="interval-1000"),
    pytest.param("FREQ=WEEKLY;BYDAY=XX", id="byday-xx"),
    pytest.param("FREQ=WEEKLY;BYDAY=1MO", id="place-weekly"),
    pytest.param("FREQ=MONTHLY;BYDAY=0MO", id="place-0"),
    pytest.param("FREQ=MONTHLY;BYDAY=6MO", id="place-6"),
    pytest.param("FREQ=DAILY;BYMONTHDAY=1", id="monthday-daily"),
    pytest.param("FREQ=MONTHLY;BYMONTHDAY=0", id="monthday-0"),
    pytest.param("FREQ=MONTHLY;BYMONTHDAY=32", id="monthday-32"),
    pytest.param("FREQ=DAILY;COUNT=2;UNTIL=20271231", id="count-and-until"),
    pytest.param("FREQ=DAILY;COUNT=0", id="count-0"),
    pytest.param("FREQ=DAILY;UNTIL=2027-12-31", id="until-dashes"),
    pytest.param("FREQ=DAILY;UNTIL=20271231T170000", id="until-local-moment"),
    pytest.param("FREQ=DAILY;BYHOUR=9", id="unknown-part"),
    pytest.param("FREQ=DAILY;FREQ=WEEKLY", id="twice"),
    pytest.param("freq=daily", id="lower-case"),
    pytest.param("RRULE:FREQ=DAILY", id="prefix"),
    pytest.param("FREQ=DAILY;", id="empty-part"),
    pytest.param("", id="empty"),
]

SCHEDULED = {"due_date": "2027-04-01", "due_time": "09:00", "time_zone": "Europe/Berlin"}


async def assert_422(response: httpx.Response, location: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["location"] == location, problem
    assert problem["errors"][0]["message"]


@pytest.mark.parametrize("rule", INVALID_RULES)
async def test_an_invalid_rule_is_422_naming_recurrence_and_stores_nothing(
    client: httpx.AsyncClient, owner: str, rule: str
) -> None:
    created = await client.post(
        f"/api/{owner}/tasks",
        json={"title": "t", **SCHEDULED, "recurrence": rule},
        headers=token_for(owner),
    )
    await assert_422(created, "body.recurrence")
    assert await every_task(client, owner) == []
    task = await make_task(client, owner, **SCHEDULED, recurrence="FREQ=DAILY")
    updated = await client.put(
        task_path(owner, task["id"]), json={"recurrence": rule}, headers=token_for(owner)
    )
    await assert_422(updated, "body.recurrence")
    assert await every_task(client, owner) == [task]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        pytest.param({"time_zone": "Mars/Olympus"}, "body.time_zone", id="unknown-zone"),
        pytest.param({"time_zone": "europe/berlin"}, "body.time_zone", id="zone-case"),
        pytest.param(
            {"due_date": "2027-04-01", "remind_before_minutes": 10},
            "body.remind_before_minutes",
            id="reminder-without-time",
        ),
        pytest.param({"due_time": "09:00"}, "body.due_time", id="time-without-day"),
        pytest.param({"recurrence": "FREQ=DAILY"}, "body.recurrence", id="rule-without-day"),
        pytest.param(
            {"due_date": "2027-04-01", "due_time": "24:00"}, "body.due_time", id="time-24"
        ),
        pytest.param(
            {**SCHEDULED, "remind_before_minutes": 40321},
            "body.remind_before_minutes",
            id="reminder-too-far",
        ),
        pytest.param(
            {**SCHEDULED, "remind_before_minutes": -1},
            "body.remind_before_minutes",
            id="reminder-negative",
        ),
        pytest.param({**SCHEDULED, "due_at": "2027-04-01T07:00:00Z"}, "body.due_at", id="due-at"),
        pytest.param({"next_occurrence_id": 1}, "body.next_occurrence_id", id="next-id"),
    ],
)
async def test_create_refuses_a_schedule_naming_the_field(
    client: httpx.AsyncClient, owner: str, body: dict[str, Any], location: str
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks", json={"title": "t", **body}, headers=token_for(owner)
    )
    await assert_422(response, location)
    assert await every_task(client, owner) == []


@pytest.mark.parametrize(
    ("fields", "body", "location"),
    [
        pytest.param(SCHEDULED, {"time_zone": "Mars/Olympus"}, "body.time_zone", id="zone"),
        pytest.param(SCHEDULED, {"time_zone": None}, "body.time_zone", id="zone-null"),
        pytest.param(
            {"due_date": "2027-04-01"},
            {"remind_before_minutes": 10},
            "body.remind_before_minutes",
            id="reminder-without-time",
        ),
        pytest.param({}, {"due_time": "09:00"}, "body.due_time", id="time-without-day"),
        pytest.param({}, {"recurrence": "FREQ=DAILY"}, "body.recurrence", id="rule-without-day"),
        pytest.param(
            SCHEDULED,
            {"due_date": None, "recurrence": "FREQ=DAILY"},
            "body.recurrence",
            id="clear-day-set-rule",
        ),
        pytest.param(
            SCHEDULED,
            {"due_date": None, "due_time": "10:00"},
            "body.due_time",
            id="clear-day-set-time",
        ),
        pytest.param(
            SCHEDULED,
            {"due_time": None, "remind_before_minutes": 10},
            "body.remind_before_minutes",
            id="clear-time-set-reminder",
        ),
        pytest.param(
            {**SCHEDULED, "recurrence": "FREQ=DAILY"},
            {"completed": True, "recurrence": "FREQ=HOURLY"},
            "body.recurrence",
            id="completing-with-bad-rule",
        ),
    ],
)
async def test_update_refuses_a_schedule_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    owner: str,
    fields: dict[str, Any],
    body: dict[str, Any],
    location: str,
) -> None:
    task = await make_task(client, owner, **fields)
    response = await client.put(task_path(owner, task["id"]), json=body, headers=token_for(owner))
    await assert_422(response, location)
    assert await every_task(client, owner) == [task]


# --- Updating a schedule --------------------------------------------------------------------


async def test_clearing_the_due_day_clears_what_needs_it(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(
        client, owner, **SCHEDULED, recurrence="FREQ=DAILY", remind_before_minutes=15
    )
    assert utc(task["remind_at"]) == at(2027, 4, 1, 6, 45)
    cleared = await update(client, owner, task["id"], {"due_date": None})
    for name in ("due_date", "due_time", "recurrence", "remind_before_minutes"):
        assert cleared[name] is None, name
    assert (cleared["due_at"], cleared["remind_at"]) == (None, None)
    assert cleared["time_zone"] == "Europe/Berlin"  # a zone needs no day
    assert await read(client, owner, task["id"]) == cleared
    done = await complete(client, owner, task["id"])
    assert done["next_occurrence_id"] is None


async def test_clearing_the_due_time_clears_the_reminder_only(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(
        client, owner, **SCHEDULED, recurrence="FREQ=DAILY", remind_before_minutes=15
    )
    cleared = await update(client, owner, task["id"], {"due_time": None})
    assert (cleared["due_time"], cleared["remind_before_minutes"]) == (None, None)
    assert (cleared["due_at"], cleared["remind_at"]) == (None, None)
    assert (cleared["due_date"], cleared["recurrence"]) == ("2027-04-01", "FREQ=DAILY")
    assert await read(client, owner, task["id"]) == cleared


async def test_changing_the_day_keeps_the_time_and_moves_the_moments(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, **SCHEDULED, remind_before_minutes=60)
    moved = await update(client, owner, task["id"], {"due_date": "2027-03-01"})
    assert moved["due_time"] == "09:00"
    assert utc(moved["due_at"]) == at(2027, 3, 1, 8)  # winter time
    assert utc(moved["remind_at"]) == at(2027, 3, 1, 7)
    assert await read(client, owner, task["id"]) == moved


async def test_changing_the_time_zone_moves_due_at_and_remind_at(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, **SCHEDULED, remind_before_minutes=30)
    assert utc(task["due_at"]) == at(2027, 4, 1, 7)
    assert utc(task["remind_at"]) == at(2027, 4, 1, 6, 30)
    moved = await update(client, owner, task["id"], {"time_zone": "America/Los_Angeles"})
    assert (moved["due_date"], moved["due_time"]) == ("2027-04-01", "09:00")
    assert utc(moved["due_at"]) == at(2027, 4, 1, 16)
    assert utc(moved["remind_at"]) == at(2027, 4, 1, 15, 30)
    assert await read(client, owner, task["id"]) == moved
    reminder = await update(client, owner, task["id"], {"remind_before_minutes": 0})
    assert utc(reminder["remind_at"]) == utc(reminder["due_at"]) == at(2027, 4, 1, 16)


async def test_removing_the_rule_stops_the_recurrence(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, **SCHEDULED, recurrence="FREQ=DAILY")
    plain = await update(client, owner, task["id"], {"recurrence": None})
    assert plain["recurrence"] is None
    done = await complete(client, owner, task["id"])
    assert done["next_occurrence_id"] is None
    assert await every_task(client, owner) == [done]
