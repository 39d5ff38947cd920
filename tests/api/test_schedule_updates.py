"""A task's schedule over HTTP, on both databases (contract 1.4.0): what a create or an
update may not set (a 422 naming the field, nothing stored or changed), and what setting or
clearing the day, the time, the time zone or the rule does to the rest of it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_task, token_for
from tests.support.task_requests import at, complete, every_task, read, task_path, update, utc

pytestmark = pytest.mark.anyio

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
