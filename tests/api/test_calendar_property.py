"""Schedules drawn at the calendar's ends: every write is created and reads back, or is
refused with a 422 naming a field and stores nothing; no answer is a 5xx, on both databases.

And the SQLite form of a moment, for every moment from the year 1 to 9999: it reads back as
the same moment, and its text sorts as the moments do (the lists and the reminder window
compare it as text).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.main import create_app
from backend.settings import Settings
from backend.storage.sqlite import from_sqlite_timestamp, sqlite_timestamp
from generated.models import TaskSort
from tests.conftest import new_owner, token_for

SCHEDULE_FIELDS = ("due_date", "due_time", "time_zone", "recurrence", "remind_before_minutes")
# The ends of the calendar and of the offsets: the zones furthest east and west of UTC, one
# a minute off it, and zones whose offsets changed (daylight saving, historic offsets).
ZONES = (
    "UTC",
    "Etc/GMT-14",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
EDGE_DAYS = st.sampled_from(
    ["0001-01-01", "0001-01-02", "0999-12-31", "1000-01-01", "9999-12-30", "9999-12-31"]
)
DAYS = EDGE_DAYS | st.dates().map(lambda day: day.isoformat())
TIMES = st.sampled_from(["00:00", "00:01", "11:59", "12:00", "13:59", "14:00", "23:59"]) | (
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}")
)
RULES = st.sampled_from(
    ["FREQ=DAILY", "FREQ=YEARLY;BYDAY=-1MO", "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=WEEKLY;COUNT=2"]
)
SCHEDULES = st.fixed_dictionaries(
    {"due_date": DAYS},
    optional={
        "due_time": TIMES,
        "time_zone": st.sampled_from(ZONES),
        "recurrence": RULES,
        "remind_before_minutes": st.sampled_from([0, 1, 60, 1440, 40320]),
    },
)


@pytest.fixture
def portal_client(settings: Settings) -> Iterator[tuple[BlockingPortal, httpx.AsyncClient]]:
    """One app for all the examples of a test (each example is a new owner); a 500 is a
    response here, as a client sees it, not the app's exception."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        with (
            portal.wrap_async_context_manager(app.router.lifespan_context(app)),
            portal.wrap_async_context_manager(client),
        ):
            yield portal, client


def every_list(portal: BlockingPortal, client: httpx.AsyncClient, owner: str) -> list[int]:
    """The owner's task ids, after checking every order reads them alike."""
    orders = []
    for sort in TaskSort:
        listed = partial(
            client.get,
            f"/api/{owner}/tasks",
            params={"sort": sort.value, "limit": 100},
            headers=token_for(owner),
        )
        response = portal.call(listed)
        assert response.status_code == 200, (sort, response.text)
        if sort is not TaskSort.REMIND_AT:  # that order lists only tasks with a reminder
            orders.append(sorted(task["id"] for task in response.json()))
    assert all(order == orders[0] for order in orders)
    return orders[0]


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(schedule=SCHEDULES, update=st.booleans(), complete=st.booleans())
def test_a_write_at_the_calendars_ends_is_stored_and_read_or_refused_and_not_stored(
    portal_client: tuple[BlockingPortal, httpx.AsyncClient],
    schedule: dict[str, Any],
    update: bool,
    complete: bool,
) -> None:
    portal, client = portal_client
    owner = new_owner()
    tasks = f"/api/{owner}/tasks"
    body = {"title": "edge", **schedule}
    if update:
        made = portal.call(
            lambda: client.post(tasks, json={"title": "t"}, headers=token_for(owner))
        )
        url = f"{tasks}/{made.json()['id']}"
        written = portal.call(lambda: client.put(url, json=body, headers=token_for(owner)))
        before = [made.json()["id"]]
    else:
        written = portal.call(lambda: client.post(tasks, json=body, headers=token_for(owner)))
        before = []
    assert written.status_code in (200, 201, 422), written.text
    if written.status_code == 422:
        fields = {error["location"] for error in written.json()["errors"]}
        assert fields <= {f"body.{name}" for name in SCHEDULE_FIELDS}, fields
        assert every_list(portal, client, owner) == before
        return
    task = written.json()
    assert every_list(portal, client, owner) == sorted({*before, task["id"]})
    read = portal.call(lambda: client.get(f"{tasks}/{task['id']}", headers=token_for(owner)))
    assert read.status_code == 200, read.text
    assert {name: read.json()[name] for name in schedule} == schedule
    if complete:
        done = portal.call(
            lambda: client.patch(f"{tasks}/{task['id']}/complete", headers=token_for(owner))
        )
        assert done.status_code == 200, done.text
        following = done.json()["next_occurrence_id"]
        expected = sorted({*before, task["id"], *([following] if following else [])})
        assert every_list(portal, client, owner) == expected


MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(lambda moment: moment.replace(tzinfo=UTC))
EAST = timezone(timedelta(hours=14))
EDGE_MOMENTS = st.sampled_from(
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
)


@settings(max_examples=500, derandomize=True, database=None)
@given(first=EDGE_MOMENTS | MOMENTS, second=EDGE_MOMENTS | MOMENTS)
def test_the_sqlite_form_of_a_moment_reads_back_and_sorts_as_moments_do(
    first: datetime, second: datetime
) -> None:
    for moment in (first, second):
        assert from_sqlite_timestamp(sqlite_timestamp(moment)) == moment
    assert (sqlite_timestamp(first) < sqlite_timestamp(second)) == (first < second)
    if first < datetime(9999, 12, 31, 10, tzinfo=UTC):
        # The same moment given with another offset is stored as the same text.
        assert sqlite_timestamp(first.astimezone(EAST)) == sqlite_timestamp(first)
