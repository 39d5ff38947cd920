"""Due times in IANA time zones and recurring tasks (contract 1.4.0), over HTTP, on both databases.

Each completion of a recurring task is followed to its next occurrence, which is read back
with GET and counted with a list: the stored state, not only the response, is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import make_task, token_for
from tests.support.task_requests import (
    Task,
    at,
    complete,
    every_task,
    read,
    task_path,
    update,
    utc,
)

pytestmark = pytest.mark.anyio


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
