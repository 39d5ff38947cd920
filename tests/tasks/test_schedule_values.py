"""A task's schedule as a plain value: its moments, its checks and their sentences, its
updates and its next occurrence.

test_recurrence.py, test_schedule_updates.py and test_reminders.py cover the same rules over
HTTP on both databases; these run in a fraction of a second, for every mutant of `make
mutate`, and pin what HTTP cannot reach cheaply: moments at the ends of the calendar, a
server whose local time zone is not UTC.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.tasks.schedule import SCHEDULE_COLUMNS, InvalidSchedule, Schedule, zone_of

DAY = date(2027, 4, 1)
# 09:00 in Berlin on 2027-04-01 (summer time) is 07:00 in UTC.
BERLIN = Schedule(due_date=DAY, due_time="09:00", time_zone="Europe/Berlin")


@pytest.fixture
def server_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Asia/Tokyo (UTC+9), not the UTC of most servers."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def refusal(schedule: Schedule) -> tuple[str, str]:
    with pytest.raises(InvalidSchedule) as refused:
        schedule.checked()
    assert str(refused.value) == f"{refused.value.field}: {refused.value.message}"
    return refused.value.field, refused.value.message


# --- Fields ---------------------------------------------------------------------------------


def test_a_schedule_takes_its_fields_from_a_body_or_row_and_defaults_the_rest() -> None:
    body: dict[str, Any] = {
        "title": "t",
        "due_date": DAY,
        "time_zone": "Asia/Tokyo",
        "remind_before_minutes": None,
        "due_at": "ignored",
    }
    assert Schedule.of(body) == Schedule(due_date=DAY, time_zone="Asia/Tokyo")
    assert Schedule.of({}) == Schedule(None, None, "UTC", None, None)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_an_iana_name_is_its_time_zone(name: str) -> None:
    zone = zone_of(name)
    assert zone.key == name
    assert zone.utcoffset(datetime(2026, 7, 1)) == ZoneInfo(name).utcoffset(datetime(2026, 7, 1))


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/berlin", "", "Europe/../UTC"])
def test_another_name_is_refused_naming_time_zone(name: str) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        zone_of(name)
    assert (refused.value.field, refused.value.message) == (
        "time_zone",
        f"`{name}` is not an IANA time zone name (such as Europe/Berlin or UTC)",
    )


# --- Moments --------------------------------------------------------------------------------


def test_the_start_is_the_due_day_at_its_time_or_at_midnight() -> None:
    assert BERLIN.start() == datetime(2027, 4, 1, 9, 0)
    assert Schedule(due_date=DAY, due_time="23:59").start() == datetime(2027, 4, 1, 23, 59)
    assert Schedule(due_date=DAY, time_zone="Asia/Tokyo").start() == datetime(2027, 4, 1)
    with pytest.raises(ValueError, match=r"^a schedule without a due day has no start$"):
        Schedule(time_zone="Asia/Tokyo").start()


@pytest.mark.usefixtures("server_in_tokyo")
@pytest.mark.parametrize(
    ("schedule", "due_at", "remind_at"),
    [
        pytest.param(BERLIN, datetime(2027, 4, 1, 7), None, id="no-reminder"),
        pytest.param(
            Schedule(DAY, "09:00", "Europe/Berlin", None, 30),
            datetime(2027, 4, 1, 7),
            datetime(2027, 4, 1, 6, 30),
            id="reminder",
        ),
        pytest.param(
            Schedule(DAY, "00:30", "America/Los_Angeles", None, 0),
            datetime(2027, 4, 1, 7, 30),
            datetime(2027, 4, 1, 7, 30),
            id="at-the-moment",
        ),
        pytest.param(
            Schedule(DAY, "00:15", "UTC", None, 40320),
            datetime(2027, 4, 1, 0, 15),
            datetime(2027, 3, 4, 0, 15),
            id="four-weeks",
        ),
    ],
)
def test_the_due_and_reminder_moments_are_in_utc_whatever_the_servers_zone(
    schedule: Schedule, due_at: datetime, remind_at: datetime | None
) -> None:
    moments = (schedule.due_at(), schedule.remind_at())
    assert moments == (due_at.replace(tzinfo=UTC), remind_at and remind_at.replace(tzinfo=UTC))
    for moment in moments:
        assert moment is None or moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(Schedule(), id="nothing"),
        pytest.param(Schedule(due_date=DAY, remind_before_minutes=10), id="day-only"),
        pytest.param(Schedule(due_time="09:00", remind_before_minutes=10), id="time-only"),
    ],
)
def test_without_a_due_day_and_time_there_are_no_moments(schedule: Schedule) -> None:
    assert (schedule.due_at(), schedule.remind_at()) == (None, None)


@pytest.mark.parametrize(
    ("schedule", "field", "message"),
    [
        pytest.param(
            Schedule(date(1, 1, 1), "08:59", "Etc/GMT-9"),
            "due_time",
            "the due moment falls outside the years 1 to 9999 in UTC",
            id="before-year-1",
        ),
        pytest.param(
            Schedule(date(9999, 12, 31), "19:00", "America/New_York"),
            "due_time",
            "the due moment falls outside the years 1 to 9999 in UTC",
            id="after-9999",
        ),
        pytest.param(
            Schedule(date(1, 1, 1), "00:30", "UTC", None, 31),
            "remind_before_minutes",
            "the reminder falls before the year 1 in UTC",
            id="reminder-before-year-1",
        ),
    ],
)
def test_a_moment_outside_the_calendar_is_refused_naming_the_field(
    schedule: Schedule, field: str, message: str
) -> None:
    assert refusal(schedule) == (field, message)
    with pytest.raises(InvalidSchedule):
        schedule.columns()


def test_the_calendars_ends_are_moments_still() -> None:
    """Etc/GMT-9 is UTC+9 in every year (Asia/Tokyo kept its local mean time until 1887)."""
    first = Schedule(date(1, 1, 1), "09:00", "Etc/GMT-9", None, 0)
    last = Schedule(date(9999, 12, 31), "18:59", "America/New_York")
    assert first.checked().remind_at() == datetime(1, 1, 1, 0, 0, tzinfo=UTC)
    assert last.checked().due_at() == datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


def test_the_columns_are_the_fields_and_their_moments() -> None:
    schedule = Schedule(DAY, "09:00", "Europe/Berlin", "FREQ=DAILY", 15)
    columns = schedule.columns()
    assert tuple(columns) == SCHEDULE_COLUMNS
    assert columns == {
        "due_date": DAY,
        "due_time": "09:00",
        "time_zone": "Europe/Berlin",
        "recurrence": "FREQ=DAILY",
        "remind_before_minutes": 15,
        "due_at": datetime(2027, 4, 1, 7, tzinfo=UTC),
        "remind_at": datetime(2027, 4, 1, 6, 45, tzinfo=UTC),
    }
    assert Schedule.of(columns) == schedule


# --- Checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(Schedule(), id="nothing"),
        pytest.param(Schedule(time_zone="Asia/Tokyo"), id="zone-only"),
        pytest.param(Schedule(due_date=DAY), id="day"),
        pytest.param(Schedule(due_date=DAY, recurrence="FREQ=DAILY"), id="day-and-rule"),
        pytest.param(BERLIN, id="day-and-time"),
        pytest.param(Schedule(DAY, "09:00", "Europe/Berlin", "FREQ=WEEKLY", 10), id="all"),
    ],
)
def test_a_schedule_whose_fields_agree_is_itself_once_checked(schedule: Schedule) -> None:
    assert schedule.checked() is schedule


@pytest.mark.parametrize(
    ("schedule", "field", "message"),
    [
        pytest.param(
            Schedule(due_date=DAY, due_time="09:00", time_zone="Mars/Olympus"),
            "time_zone",
            "`Mars/Olympus` is not an IANA time zone name (such as Europe/Berlin or UTC)",
            id="zone",
        ),
        # The zone is named first, then the fields in the order of the contract.
        pytest.param(
            Schedule(due_time="09:00", time_zone="Mars/Olympus"),
            "time_zone",
            "`Mars/Olympus` is not an IANA time zone name (such as Europe/Berlin or UTC)",
            id="zone-first",
        ),
        pytest.param(
            Schedule(due_time="09:00", recurrence="FREQ=DAILY"),
            "due_time",
            "a due time needs a due day: set due_date too",
            id="time-without-day",
        ),
        pytest.param(
            Schedule(recurrence="FREQ=DAILY", remind_before_minutes=5),
            "recurrence",
            "a recurrence rule needs a due day: set due_date",
            id="rule-without-day",
        ),
        pytest.param(
            Schedule(due_date=DAY, remind_before_minutes=5, recurrence="FREQ=HOURLY"),
            "remind_before_minutes",
            "a reminder needs a due time: set due_time",
            id="reminder-without-time",
        ),
        pytest.param(
            Schedule(due_date=DAY, recurrence="FREQ=HOURLY"),
            "recurrence",
            "FREQ `HOURLY` is not DAILY, WEEKLY, MONTHLY or YEARLY",
            id="rule",
        ),
    ],
)
def test_a_schedule_whose_fields_disagree_names_the_first_field_at_fault(
    schedule: Schedule, field: str, message: str
) -> None:
    assert refusal(schedule) == (field, message)


# --- Updates --------------------------------------------------------------------------------

FULL = Schedule(DAY, "09:00", "Europe/Berlin", "FREQ=DAILY", 15)


@pytest.mark.parametrize(
    ("changes", "after"),
    [
        pytest.param({}, FULL, id="nothing"),
        pytest.param({"title": "t", "due_at": None}, FULL, id="not-schedule-fields"),
        pytest.param(
            {"due_date": None},
            Schedule(time_zone="Europe/Berlin"),
            id="clear-day",
        ),
        pytest.param(
            {"due_time": None},
            Schedule(DAY, None, "Europe/Berlin", "FREQ=DAILY", None),
            id="clear-time",
        ),
        pytest.param(
            {"due_date": date(2027, 3, 1)},
            Schedule(date(2027, 3, 1), "09:00", "Europe/Berlin", "FREQ=DAILY", 15),
            id="move-day",
        ),
        pytest.param(
            {"due_time": "10:00", "time_zone": "UTC"},
            Schedule(DAY, "10:00", "UTC", "FREQ=DAILY", 15),
            id="move-time",
        ),
        pytest.param(
            {"recurrence": None, "remind_before_minutes": None},
            BERLIN,
            id="clear-rule-and-reminder",
        ),
        pytest.param(
            {"due_date": None, "due_time": None, "recurrence": None},
            Schedule(time_zone="Europe/Berlin"),
            id="clear-all",
        ),
    ],
)
def test_an_update_changes_the_fields_it_names_and_clears_what_needs_a_cleared_one(
    changes: dict[str, Any], after: Schedule
) -> None:
    assert FULL.changed(changes) == after


def test_a_day_set_again_keeps_what_needs_it() -> None:
    assert FULL.changed({"due_date": None}).changed({"due_date": DAY}) == Schedule(
        due_date=DAY, time_zone="Europe/Berlin"
    )
    assert Schedule().changed({"due_date": DAY, "due_time": "09:00"}) == Schedule(DAY, "09:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"due_date": None, "recurrence": "FREQ=DAILY"}, "recurrence", id="rule"),
        pytest.param({"due_date": None, "due_time": "10:00"}, "due_time", id="time"),
        pytest.param(
            {"due_date": None, "remind_before_minutes": 10}, "remind_before_minutes", id="day"
        ),
        pytest.param(
            {"due_time": None, "remind_before_minutes": 10}, "remind_before_minutes", id="time"
        ),
        pytest.param({"time_zone": "Mars/Olympus"}, "time_zone", id="zone"),
    ],
)
def test_an_update_that_clears_a_field_and_sets_one_needing_it_names_that_one(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        FULL.changed(changes)
    assert refused.value.field == field


# --- The next occurrence --------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(BERLIN, id="no-rule"),
        pytest.param(Schedule(recurrence="FREQ=DAILY"), id="no-day"),
        pytest.param(Schedule(DAY, recurrence="FREQ=DAILY;COUNT=1"), id="count-1"),
        pytest.param(Schedule(DAY, recurrence="FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1"), id="never"),
    ],
)
def test_a_task_without_a_rule_or_occurrences_left_has_no_next(schedule: Schedule) -> None:
    assert schedule.next_occurrence() is None


@pytest.mark.usefixtures("server_in_tokyo")
def test_the_next_occurrence_carries_the_schedule_to_the_rules_next_day() -> None:
    # 2027-06-07 is a Monday; Sydney is UTC+10 in June.
    first = Schedule(date(2027, 6, 7), "07:45", "Australia/Sydney", "FREQ=WEEKLY;BYDAY=MO,TH", 90)
    second = first.next_occurrence()
    assert second == Schedule(
        date(2027, 6, 10), "07:45", "Australia/Sydney", "FREQ=WEEKLY;BYDAY=MO,TH", 90
    )
    assert second.due_at() == datetime(2027, 6, 9, 21, 45, tzinfo=UTC)
    assert second.remind_at() == datetime(2027, 6, 9, 20, 15, tzinfo=UTC)


def test_the_next_occurrence_writes_its_due_time_as_hh_mm() -> None:
    first = Schedule(date(2027, 1, 4), "9:05", "UTC", "FREQ=DAILY")
    assert first.next_occurrence() == Schedule(date(2027, 1, 5), "09:05", "UTC", "FREQ=DAILY")


@pytest.mark.usefixtures("server_in_tokyo")
@pytest.mark.parametrize(
    ("zone", "following"),
    [
        ("UTC", Schedule(date(9999, 12, 31), "20:00", "UTC", "FREQ=DAILY")),
        ("Asia/Tokyo", Schedule(date(9999, 12, 31), "20:00", "Asia/Tokyo", "FREQ=DAILY")),
        # 9999-12-31 20:00 there is in the year 10000 in UTC: the rule is exhausted.
        ("America/Los_Angeles", None),
    ],
)
def test_the_last_days_next_occurrence_is_judged_in_utc_whatever_the_servers_zone(
    zone: str, following: Schedule | None
) -> None:
    """On a server in Tokyo, 9999-12-31 20:00 UTC is in the year 10000 in local time: the
    next occurrence still exists, because it is judged in UTC, as stored."""
    first = Schedule(date(9999, 12, 30), "20:00", zone, "FREQ=DAILY")
    assert first.next_occurrence() == following


def test_a_day_without_a_time_recurs_without_one() -> None:
    first = Schedule(date(2027, 1, 31), None, "Asia/Tokyo", "FREQ=MONTHLY;BYMONTHDAY=-1")
    assert first.next_occurrence() == Schedule(
        date(2027, 2, 28), None, "Asia/Tokyo", "FREQ=MONTHLY;BYMONTHDAY=-1"
    )


def test_count_goes_down_in_the_next_occurrence() -> None:
    first = Schedule(date(2027, 1, 4), "02:30", "UTC", "INTERVAL=2;FREQ=DAILY;COUNT=3")
    second = first.next_occurrence()
    assert second == Schedule(date(2027, 1, 6), "02:30", "UTC", "INTERVAL=2;FREQ=DAILY;COUNT=2")
    third = second.next_occurrence()
    assert third == Schedule(date(2027, 1, 8), "02:30", "UTC", "INTERVAL=2;FREQ=DAILY;COUNT=1")
    assert third.next_occurrence() is None


@pytest.mark.usefixtures("server_in_tokyo")
@pytest.mark.parametrize(
    ("schedule", "creates"),
    [
        # UNTIL as a day, in the task's time zone: the next Monday is 2027-01-11.
        pytest.param(Schedule(date(2027, 1, 4), None, "UTC", "FREQ=WEEKLY;UNTIL=20270110"), False),
        pytest.param(Schedule(date(2027, 1, 4), None, "UTC", "FREQ=WEEKLY;UNTIL=20270111"), True),
        # 2027-01-11 00:30 in Tokyo is still 2027-01-10 in UTC: the local day decides.
        pytest.param(
            Schedule(date(2027, 1, 4), "00:30", "Asia/Tokyo", "FREQ=WEEKLY;UNTIL=20270110"), False
        ),
        pytest.param(
            Schedule(date(2027, 1, 4), "23:30", "America/New_York", "FREQ=WEEKLY;UNTIL=20270111"),
            True,
        ),
        # UNTIL as a moment: the next is due 2027-01-11 09:00 in Berlin, 08:00Z.
        pytest.param(
            Schedule(
                date(2027, 1, 4), "09:00", "Europe/Berlin", "FREQ=WEEKLY;UNTIL=20270111T080000Z"
            ),
            True,
        ),
        pytest.param(
            Schedule(
                date(2027, 1, 4), "09:00", "Europe/Berlin", "FREQ=WEEKLY;UNTIL=20270111T075959Z"
            ),
            False,
        ),
        # Without a due time the rule is read at midnight in the task's zone.
        pytest.param(
            Schedule(date(2027, 1, 4), None, "UTC", "FREQ=WEEKLY;UNTIL=20270111T000000Z"), True
        ),
        # Midnight in Berlin is 23:00Z the day before.
        pytest.param(
            Schedule(date(2027, 1, 4), None, "Europe/Berlin", "FREQ=WEEKLY;UNTIL=20270110T230000Z"),
            True,
        ),
        pytest.param(
            Schedule(date(2027, 1, 4), None, "Europe/Berlin", "FREQ=WEEKLY;UNTIL=20270110T225959Z"),
            False,
        ),
        pytest.param(
            Schedule(
                date(2027, 1, 4), None, "America/New_York", "FREQ=WEEKLY;UNTIL=20270111T050000Z"
            ),
            True,
        ),
    ],
)
def test_until_is_the_last_local_day_or_utc_moment_an_occurrence_falls_on(
    schedule: Schedule, creates: bool
) -> None:
    second = schedule.next_occurrence()
    if creates:
        assert second == Schedule(
            date(2027, 1, 11), schedule.due_time, schedule.time_zone, schedule.recurrence
        )
    else:
        assert second is None
