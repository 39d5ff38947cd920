"""Where each shape of the rule subset falls next, against dates read off a calendar by hand.

An oracle independent of dateutil: every expected date below is a literal, looked up on a
printed calendar (`python -c "import calendar; print(calendar.month(2027, 11))"`), never
computed by dateutil or by the code under test. The rules are checked at the module's
interface (`parse_rule(...).next_after(...)`, and `allows` for UNTIL), and the three yearly
rules of issue 27 also over HTTP on both databases, through a completion.

A yearly rule keeps the due day's month (contract: "with MONTHLY or YEARLY a day may carry
its place in the month"): a numbered day counts in that month, and plain days and days of
the month fall in that month of each year, never in the other eleven as RFC 5545's
expansion of a YEARLY rule without BYMONTH would have them.
"""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest

from backend.tasks.recurrence import parse_rule
from tests.conftest import make_task
from tests.support.task_requests import at, complete, read, utc


def local(text: str) -> datetime:
    """A wall time as the rule reads it (naive), written `YYYY-MM-DD HH:MM`."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


# (rule, start, the next occurrence), each checked on a calendar; a comment says how where
# the reading is not plain from the dates.
ORACLE: list[tuple[str, str, str | None]] = [
    # --- DAILY ----------------------------------------------------------------------------
    ("FREQ=DAILY", "2027-02-28 09:30", "2027-03-01 09:30"),  # 2027 is not a leap year
    ("FREQ=DAILY", "2028-02-28 09:30", "2028-02-29 09:30"),
    ("FREQ=DAILY;INTERVAL=10", "2027-12-25 09:30", "2028-01-04 09:30"),
    ("FREQ=DAILY;BYDAY=SA,SU", "2027-01-08 09:30", "2027-01-09 09:30"),  # Fri -> Sat
    ("FREQ=DAILY;BYDAY=SA,SU", "2027-01-10 09:30", "2027-01-16 09:30"),  # Sun -> Sat
    # From Monday the 4th every 2nd day: 6, 8, 10, 12, 14, 16, 18 (a Monday).
    ("FREQ=DAILY;INTERVAL=2;BYDAY=MO", "2027-01-04 09:30", "2027-01-18 09:30"),
    # Every 7th day from a Monday is a Monday: never a Tuesday.
    ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2027-01-04 09:30", None),
    # --- WEEKLY ---------------------------------------------------------------------------
    ("FREQ=WEEKLY", "2027-12-30 09:30", "2028-01-06 09:30"),  # Thursday to Thursday
    ("FREQ=WEEKLY;INTERVAL=3", "2027-01-04 09:30", "2027-01-25 09:30"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "2027-01-08 09:30", "2027-01-11 09:30"),  # Fri -> Mon
    # Weeks start on Monday (RFC 5545's default WKST): Sunday the 10th is in the start's week.
    ("FREQ=WEEKLY;BYDAY=SU", "2027-01-04 09:30", "2027-01-10 09:30"),
    # Every other week: Tue 5, Thu 7, then the week of Monday the 18th.
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2027-01-05 09:30", "2027-01-07 09:30"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2027-01-07 09:30", "2027-01-19 09:30"),
    # --- MONTHLY --------------------------------------------------------------------------
    ("FREQ=MONTHLY", "2027-01-15 09:30", "2027-02-15 09:30"),
    ("FREQ=MONTHLY", "2027-01-31 09:30", "2027-03-31 09:30"),  # February has no 31st
    ("FREQ=MONTHLY;INTERVAL=3", "2027-11-15 09:30", "2028-02-15 09:30"),
    # Every other month from December: February, April and June 2028 have no 31st.
    ("FREQ=MONTHLY;INTERVAL=2", "2027-12-31 09:30", "2028-08-31 09:30"),
    ("FREQ=MONTHLY;BYDAY=MO", "2027-01-25 09:30", "2027-02-01 09:30"),
    ("FREQ=MONTHLY;BYDAY=1MO", "2027-01-04 09:30", "2027-02-01 09:30"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "2027-01-29 09:30", "2027-02-26 09:30"),
    ("FREQ=MONTHLY;BYDAY=-2WE", "2027-01-20 09:30", "2027-02-17 09:30"),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU", "2027-01-12 09:30", "2027-03-09 09:30"),
    ("FREQ=MONTHLY;BYDAY=1MO,-1FR", "2027-01-29 09:30", "2027-02-01 09:30"),
    # A fifth Sunday: none in February, March or April 2027; May's is the 30th.
    ("FREQ=MONTHLY;BYDAY=5SU", "2027-01-31 09:30", "2027-05-30 09:30"),
    # The fifth Sunday from the end is the first of a month with five: May's is the 2nd.
    ("FREQ=MONTHLY;BYDAY=-5SU", "2027-01-03 09:30", "2027-05-02 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "2027-01-20 09:30", "2027-02-15 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,15", "2027-01-01 09:30", "2027-01-15 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,-1", "2027-01-31 09:30", "2027-02-01 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "2027-01-31 09:30", "2027-02-28 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "2028-01-31 09:30", "2028-02-29 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "2027-02-28 09:30", "2027-03-31 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=-3", "2027-02-26 09:30", "2027-03-29 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2027-01-31 09:30", "2027-03-31 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2027-07-31 09:30", "2027-08-31 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=30", "2027-01-30 09:30", "2027-03-30 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=29", "2027-01-29 09:30", "2027-03-29 09:30"),
    ("FREQ=MONTHLY;BYMONTHDAY=29", "2028-01-29 09:30", "2028-02-29 09:30"),
    # The 31st day from the end is the 1st of a month of 31 days: not February's.
    ("FREQ=MONTHLY;BYMONTHDAY=-31", "2027-01-01 09:30", "2027-03-01 09:30"),
    # Friday the 13th after August 2027: none until October 2028.
    ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "2027-08-13 09:30", "2028-10-13 09:30"),
    ("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1", "2027-01-04 09:30", None),
    # --- YEARLY: the date ------------------------------------------------------------------
    ("FREQ=YEARLY", "2027-03-15 09:30", "2028-03-15 09:30"),
    ("FREQ=YEARLY", "2028-02-29 09:30", "2032-02-29 09:30"),
    ("FREQ=YEARLY;INTERVAL=4", "2027-07-04 09:30", "2031-07-04 09:30"),
    # Every 3rd year from 2028: 2031, 2034 and 2037 are not leap years, 2040 is.
    ("FREQ=YEARLY;INTERVAL=3", "2028-02-29 09:30", "2040-02-29 09:30"),
    # --- YEARLY: a day's place counts in the due day's month (issue 27) --------------------
    ("FREQ=YEARLY;BYDAY=4TH", "2026-11-26 09:30", "2027-11-25 09:30"),  # Thanksgiving
    ("FREQ=YEARLY;BYDAY=1MO", "2026-09-07 09:30", "2027-09-06 09:30"),  # Labor Day
    ("FREQ=YEARLY;BYDAY=-1MO", "2026-05-25 09:30", "2027-05-31 09:30"),  # Memorial Day
    ("FREQ=YEARLY;INTERVAL=2;BYDAY=4TH", "2026-11-26 09:30", "2028-11-23 09:30"),
    ("FREQ=YEARLY;BYDAY=2SU", "2027-05-09 09:30", "2028-05-14 09:30"),
    ("FREQ=YEARLY;BYDAY=-1SU", "2027-03-28 09:30", "2028-03-26 09:30"),
    ("FREQ=YEARLY;BYDAY=1MO,-1FR", "2027-09-06 09:30", "2027-09-24 09:30"),
    # A fifth Friday in April: April 2028 to 2031 have four, April 2032 has five.
    ("FREQ=YEARLY;BYDAY=5FR", "2027-04-30 09:30", "2032-04-30 09:30"),
    ("FREQ=YEARLY;BYDAY=-5FR", "2027-04-02 09:30", "2032-04-02 09:30"),
    # --- YEARLY: plain days of the week, in the due day's month ---------------------------
    ("FREQ=YEARLY;BYDAY=MO", "2027-01-04 09:30", "2027-01-11 09:30"),
    # The last Monday of January 2027, then the first of January 2028 (not February 2027).
    ("FREQ=YEARLY;BYDAY=MO", "2027-01-25 09:30", "2028-01-03 09:30"),
    # No weekend day is left in December 2027 after Sunday the 26th.
    ("FREQ=YEARLY;BYDAY=SA,SU", "2027-12-26 09:30", "2028-12-02 09:30"),
    # --- YEARLY: days of the due day's month -------------------------------------------------
    ("FREQ=YEARLY;BYMONTHDAY=1", "2027-03-15 09:30", "2028-03-01 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=1,15", "2027-06-01 09:30", "2027-06-15 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=1,15", "2027-06-15 09:30", "2028-06-01 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=-1", "2027-02-28 09:30", "2028-02-29 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=-1", "2028-02-29 09:30", "2029-02-28 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=29", "2028-02-29 09:30", "2032-02-29 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=31", "2027-12-31 09:30", "2028-12-31 09:30"),
    ("FREQ=YEARLY;BYMONTHDAY=-31", "2027-03-01 09:30", "2028-03-01 09:30"),
    # April never has a 31st: the rule has no occurrence (not May's, as RFC 5545 would have).
    ("FREQ=YEARLY;BYMONTHDAY=31", "2027-04-30 09:30", None),
    # --- YEARLY: days of the week and of the month together ------------------------------
    # Friday the 13th of August: Sunday in 2028, Monday 2029, Tuesday 2030, Wednesday 2031.
    ("FREQ=YEARLY;BYDAY=FR;BYMONTHDAY=13", "2027-08-13 09:30", "2032-08-13 09:30"),
    # The last Monday of May, as a Monday among its last seven days.
    (
        "FREQ=YEARLY;BYDAY=MO;BYMONTHDAY=-7,-6,-5,-4,-3,-2,-1",
        "2026-05-25 09:30",
        "2027-05-31 09:30",
    ),
    ("FREQ=YEARLY;BYDAY=5MO;BYMONTHDAY=1", "2027-01-04 09:30", None),
    # --- COUNT ----------------------------------------------------------------------------
    ("FREQ=YEARLY;BYDAY=4TH;COUNT=2", "2026-11-26 09:30", "2027-11-25 09:30"),
    ("FREQ=YEARLY;BYDAY=4TH;COUNT=1", "2026-11-26 09:30", None),
    ("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=1000", "2027-01-31 09:30", "2027-02-28 09:30"),
    ("FREQ=WEEKLY;COUNT=1", "2027-01-04 09:30", None),
    # --- UNTIL: the next moment is found; `allows` decides (below) ------------------------
    ("FREQ=YEARLY;BYDAY=4TH;UNTIL=20271125", "2026-11-26 09:30", "2027-11-25 09:30"),
    ("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270226T093000Z", "2027-01-29 09:30", "2027-02-26 09:30"),
]


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [pytest.param(text, start, expected, id=f"{text}@{start}") for text, start, expected in ORACLE],
)
def test_the_next_occurrence_is_the_one_on_the_calendar(
    text: str, start: str, expected: str | None
) -> None:
    found = parse_rule(text).next_after(local(start))
    assert found == (None if expected is None else local(expected))


def test_count_is_carried_down_to_its_last_occurrence() -> None:
    rule = parse_rule("FREQ=YEARLY;BYDAY=4TH;COUNT=3")
    dates = []
    start: datetime | None = local("2026-11-26 09:30")
    while start is not None:
        dates.append(start)
        start = rule.next_after(start)
        rule = rule.carried()
    assert dates == [
        local("2026-11-26 09:30"),
        local("2027-11-25 09:30"),
        local("2028-11-23 09:30"),
    ]


@pytest.mark.parametrize(
    ("text", "moment", "local_day", "allowed"),
    [
        # Thanksgiving 2027 at 09:30 in New York (EST, UTC-5) is 14:30Z.
        (
            "FREQ=YEARLY;BYDAY=4TH;UNTIL=20271125",
            at(2027, 11, 25, 14, 30),
            date(2027, 11, 25),
            True,
        ),
        (
            "FREQ=YEARLY;BYDAY=4TH;UNTIL=20271124",
            at(2027, 11, 25, 14, 30),
            date(2027, 11, 25),
            False,
        ),
        # The last Friday of February 2027 at 09:30 in UTC, against a moment of UNTIL.
        (
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270226T093000Z",
            at(2027, 2, 26, 9, 30),
            date(2027, 2, 26),
            True,
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270226T092959Z",
            at(2027, 2, 26, 9, 30),
            date(2027, 2, 26),
            False,
        ),
    ],
)
def test_until_allows_the_occurrence_on_its_day_or_up_to_its_moment(
    text: str, moment: datetime, local_day: date, allowed: bool
) -> None:
    assert parse_rule(text).allows(moment, local_day) is allowed


# --- Over HTTP: issue 27's yearly rules, on both databases -----------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("recurrence", "due_date", "next_dates", "next_due_at"),
    [
        # Thanksgiving, 09:00 in New York: EST (UTC-5) in late November, 14:00Z.
        pytest.param(
            "FREQ=YEARLY;BYDAY=4TH",
            "2026-11-26",
            ["2027-11-25", "2028-11-23"],
            [at(2027, 11, 25, 14), at(2028, 11, 23, 14)],
            id="thanksgiving",
        ),
        # The first Monday of September, 09:00 in New York: EDT (UTC-4), 13:00Z.
        pytest.param(
            "FREQ=YEARLY;BYDAY=1MO",
            "2026-09-07",
            ["2027-09-06", "2028-09-04"],
            [at(2027, 9, 6, 13), at(2028, 9, 4, 13)],
            id="first-monday",
        ),
        # The last Monday of May, 09:00 in New York: EDT, 13:00Z.
        pytest.param(
            "FREQ=YEARLY;BYDAY=-1MO",
            "2026-05-25",
            ["2027-05-31", "2028-05-29"],
            [at(2027, 5, 31, 13), at(2028, 5, 29, 13)],
            id="last-monday",
        ),
    ],
)
async def test_a_yearly_rule_keeps_its_month_through_completions(
    client: httpx.AsyncClient,
    owner: str,
    recurrence: str,
    due_date: str,
    next_dates: list[str],
    next_due_at: list[datetime],
) -> None:
    task = await make_task(
        client,
        owner,
        due_date=due_date,
        due_time="09:00",
        time_zone="America/New_York",
        recurrence=recurrence,
    )
    dates, moments = [], []
    for _ in next_dates:
        done = await complete(client, owner, task["id"], {"completed": True})
        assert done["next_occurrence_id"] is not None, done
        task = await read(client, owner, done["next_occurrence_id"])
        assert task["completed"] is False
        assert (task["recurrence"], task["due_time"]) == (recurrence, "09:00")
        dates.append(task["due_date"])
        moments.append(utc(task["due_at"]))
    assert dates == next_dates
    assert moments == next_due_at
