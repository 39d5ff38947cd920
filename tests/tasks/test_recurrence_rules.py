"""Recurrence rules as plain values: what parse_rule reads or refuses, and where a rule falls.

The HTTP tests (test_recurrence.py, test_schedule_updates.py) follow rules through
completions on both databases; these pin each part of the subset, its bounds and its
refusals' sentences (a 422's message) directly, fast enough to run for every mutant of
`make mutate`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil import rrule

from backend.tasks.recurrence import InvalidRule, Rule, parse_rule

# 2027-01-04 is a Monday.
MONDAY = datetime(2027, 1, 4, 9, 30)


def test_a_rule_reads_every_part_of_the_subset() -> None:
    text = "FREQ=MONTHLY;INTERVAL=3;BYDAY=MO,-1FR,+2TU,5SU;BYMONTHDAY=1,-31,31,+5;COUNT=1000"
    rule = parse_rule(text)
    assert rule.frequency == "MONTHLY"
    assert rule.interval == 3
    assert rule.weekdays == (rrule.MO, rrule.FR(-1), rrule.TU(2), rrule.SU(5))
    assert rule.month_days == (1, -31, 31, 5)
    assert rule.count == 1000
    assert rule.until is None
    assert rule.text() == text


def test_absent_parts_take_the_contracts_defaults() -> None:
    rule = parse_rule("FREQ=DAILY")
    assert (rule.interval, rule.weekdays, rule.month_days) == (1, (), ())
    assert (rule.count, rule.until) == (None, None)
    assert rule.parts == (("FREQ", "DAILY"),)


@pytest.mark.parametrize("frequency", ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
def test_each_frequency_is_read(frequency: str) -> None:
    assert parse_rule(f"FREQ={frequency}").frequency == frequency


@pytest.mark.parametrize(
    ("text", "interval", "count"),
    [
        pytest.param("FREQ=DAILY;INTERVAL=1;COUNT=1", 1, 1, id="lowest"),
        pytest.param("FREQ=DAILY;INTERVAL=999;COUNT=1000", 999, 1000, id="highest"),
        pytest.param("COUNT=0007;INTERVAL=0042;FREQ=DAILY", 42, 7, id="leading-zeros"),
    ],
)
def test_interval_and_count_are_read_within_their_bounds(
    text: str, interval: int, count: int
) -> None:
    rule = parse_rule(text)
    assert (rule.interval, rule.count) == (interval, count)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        pytest.param("FREQ=DAILY;UNTIL=20271231", date(2027, 12, 31), id="day"),
        pytest.param("FREQ=DAILY;UNTIL=20280229", date(2028, 2, 29), id="leap-day"),
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231T170005Z",
            datetime(2027, 12, 31, 17, 0, 5, tzinfo=UTC),
            id="moment",
        ),
    ],
)
def test_until_is_a_day_or_a_moment_in_utc(text: str, until: date) -> None:
    read = parse_rule(text).until
    assert read == until
    assert type(read) is type(until)
    if isinstance(read, datetime):
        assert read.utcoffset() == timedelta(0)


NOT_A_PART = "is not NAME=VALUE (parts are separated by `;`)"
NOT_A_DAY = (
    "is not a day (MO, TU, WE, TH, FR, SA, SU), optionally after its place in the month (1MO, -1FR)"
)
NOT_A_MONTH_DAY = "is not a day of the month, 1 to 31 or -31 to -1"
NOT_AN_UNTIL = "is not a day (YYYYMMDD) or a moment in UTC (YYYYMMDDTHHMMSSZ)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", f"`` {NOT_A_PART}", id="empty"),
        pytest.param("FREQ", f"`FREQ` {NOT_A_PART}", id="no-equals"),
        pytest.param("=DAILY", f"`=DAILY` {NOT_A_PART}", id="no-name"),
        pytest.param("FREQ=", f"`FREQ=` {NOT_A_PART}", id="no-value"),
        pytest.param("FREQ=DAILY;", f"`` {NOT_A_PART}", id="empty-part"),
        pytest.param(
            "FREQ=DAILY,COUNT=2",
            "FREQ `DAILY,COUNT=2` is not DAILY, WEEKLY, MONTHLY or YEARLY",
            id="comma",
        ),
        pytest.param(
            "FREQ=DAILY;BYHOUR=9",
            "`BYHOUR` is not a part this server accepts "
            "(one of FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL)",
            id="unknown-part",
        ),
        pytest.param(
            "freq=daily",
            "`freq` is not a part this server accepts "
            "(one of FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL)",
            id="lower-case",
        ),
        pytest.param("FREQ=DAILY;FREQ=WEEKLY", "`FREQ` is given twice", id="twice"),
        pytest.param("COUNT=2;FREQ=DAILY;COUNT=2", "`COUNT` is given twice", id="twice-later"),
        pytest.param(
            "INTERVAL=2", "`FREQ` is required (DAILY, WEEKLY, MONTHLY or YEARLY)", id="no-freq"
        ),
        pytest.param(
            "FREQ=HOURLY", "FREQ `HOURLY` is not DAILY, WEEKLY, MONTHLY or YEARLY", id="hourly"
        ),
        pytest.param(
            "FREQ=DAILY;COUNT=2;UNTIL=20271231",
            "`COUNT` and `UNTIL` cannot both be given",
            id="count-and-until",
        ),
        pytest.param(
            "FREQ=DAILY;INTERVAL=0",
            "INTERVAL `0` is not a whole number from 1 to 999",
            id="interval-0",
        ),
        pytest.param(
            "FREQ=DAILY;INTERVAL=1000",
            "INTERVAL `1000` is not a whole number from 1 to 999",
            id="interval-1000",
        ),
        pytest.param(
            "FREQ=DAILY;INTERVAL=+2",
            "INTERVAL `+2` is not a whole number from 1 to 999",
            id="interval-signed",
        ),
        # Arabic-Indic two: a digit to str.isdigit, and to int(), but not ASCII.
        pytest.param(
            "FREQ=DAILY;INTERVAL=\u0662",
            "INTERVAL `\u0662` is not a whole number from 1 to 999",
            id="interval-not-ascii",
        ),
        pytest.param(
            "FREQ=DAILY;COUNT=0", "COUNT `0` is not a whole number from 1 to 1000", id="count-0"
        ),
        pytest.param(
            "FREQ=DAILY;COUNT=1001",
            "COUNT `1001` is not a whole number from 1 to 1000",
            id="count-1001",
        ),
        pytest.param("FREQ=WEEKLY;BYDAY=XX", f"BYDAY `XX` {NOT_A_DAY}", id="byday-xx"),
        pytest.param("FREQ=WEEKLY;BYDAY=MO,XX", f"BYDAY `XX` {NOT_A_DAY}", id="byday-second"),
        pytest.param("FREQ=WEEKLY;BYDAY=mo", f"BYDAY `mo` {NOT_A_DAY}", id="byday-lower"),
        pytest.param("FREQ=MONTHLY;BYDAY=0MO", f"BYDAY `0MO` {NOT_A_DAY}", id="place-0"),
        pytest.param("FREQ=MONTHLY;BYDAY=6MO", f"BYDAY `6MO` {NOT_A_DAY}", id="place-6"),
        pytest.param("FREQ=MONTHLY;BYDAY=-6FR", f"BYDAY `-6FR` {NOT_A_DAY}", id="place-minus-6"),
        pytest.param(
            "FREQ=WEEKLY;BYDAY=MO,1MO",
            "BYDAY `1MO`: a place in the month needs FREQ=MONTHLY or YEARLY",
            id="place-weekly",
        ),
        pytest.param(
            "FREQ=DAILY;BYDAY=-1FR",
            "BYDAY `-1FR`: a place in the month needs FREQ=MONTHLY or YEARLY",
            id="place-daily",
        ),
        pytest.param(
            "FREQ=WEEKLY;BYMONTHDAY=1",
            "BYMONTHDAY needs FREQ=MONTHLY or YEARLY",
            id="monthday-weekly",
        ),
        pytest.param(
            "FREQ=DAILY;BYMONTHDAY=1",
            "BYMONTHDAY needs FREQ=MONTHLY or YEARLY",
            id="monthday-daily",
        ),
        pytest.param("FREQ=MONTHLY;BYMONTHDAY=0", f"BYMONTHDAY `0` {NOT_A_MONTH_DAY}", id="md-0"),
        pytest.param(
            "FREQ=MONTHLY;BYMONTHDAY=32", f"BYMONTHDAY `32` {NOT_A_MONTH_DAY}", id="md-32"
        ),
        pytest.param(
            "FREQ=YEARLY;BYMONTHDAY=1,-32", f"BYMONTHDAY `-32` {NOT_A_MONTH_DAY}", id="md-minus-32"
        ),
        pytest.param(
            "FREQ=MONTHLY;BYMONTHDAY=1,,2", f"BYMONTHDAY `` {NOT_A_MONTH_DAY}", id="md-empty"
        ),
        pytest.param(
            "FREQ=MONTHLY;BYMONTHDAY=1st", f"BYMONTHDAY `1st` {NOT_A_MONTH_DAY}", id="md-word"
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=2027-12-31", f"UNTIL `2027-12-31` {NOT_AN_UNTIL}", id="dashes"
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231T170000",
            f"UNTIL `20271231T170000` {NOT_AN_UNTIL}",
            id="local-moment",
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=20270229", f"UNTIL `20270229` {NOT_AN_UNTIL}", id="no-such-day"
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231T240000Z",
            f"UNTIL `20271231T240000Z` {NOT_AN_UNTIL}",
            id="no-such-time",
        ),
    ],
)
def test_a_rule_outside_the_subset_is_refused_naming_the_part(text: str, message: str) -> None:
    with pytest.raises(InvalidRule) as refused:
        parse_rule(text)
    assert str(refused.value) == message


# --- COUNT carried over ---------------------------------------------------------------------


def test_count_goes_down_by_one_and_the_text_keeps_the_clients_order() -> None:
    rule = parse_rule("COUNT=3;BYDAY=MO,TU;FREQ=WEEKLY;INTERVAL=2")
    carried = rule.carried()
    assert carried.text() == "COUNT=2;BYDAY=MO,TU;FREQ=WEEKLY;INTERVAL=2"
    assert carried == parse_rule(carried.text())
    assert carried.carried() == parse_rule("COUNT=1;BYDAY=MO,TU;FREQ=WEEKLY;INTERVAL=2")


@pytest.mark.parametrize(
    "text", ["FREQ=MONTHLY;BYMONTHDAY=-1;INTERVAL=2", "FREQ=DAILY;UNTIL=20271231T170000Z"]
)
def test_a_rule_without_count_is_carried_as_it_is(text: str) -> None:
    rule = parse_rule(text)
    assert rule.carried() == rule
    assert rule.carried().text() == text


@pytest.mark.parametrize(("count", "exhausted"), [(1, True), (2, False), (1000, False)])
def test_count_1_is_the_last_occurrence(count: int, exhausted: bool) -> None:
    found = parse_rule(f"FREQ=DAILY;COUNT={count}").next_after(MONDAY)
    assert found == (None if exhausted else MONDAY + timedelta(days=1))


# --- Where the rule falls -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        pytest.param("FREQ=DAILY", MONDAY, datetime(2027, 1, 5, 9, 30), id="daily"),
        pytest.param(
            "FREQ=DAILY;INTERVAL=3;BYDAY=MO", MONDAY, datetime(2027, 1, 25, 9, 30), id="every-3rd"
        ),
        pytest.param("FREQ=WEEKLY", MONDAY, datetime(2027, 1, 11, 9, 30), id="weekly"),
        pytest.param(
            "FREQ=WEEKLY;BYDAY=MO,FR",
            datetime(2027, 1, 6, 7, 0),
            datetime(2027, 1, 8, 7, 0),
            id="weekdays",
        ),
        pytest.param(
            "FREQ=MONTHLY;BYDAY=-1FR", MONDAY, datetime(2027, 1, 29, 9, 30), id="last-friday"
        ),
        pytest.param(
            "FREQ=MONTHLY;BYMONTHDAY=-1", MONDAY, datetime(2027, 1, 31, 9, 30), id="last-day"
        ),
        pytest.param("FREQ=YEARLY", datetime(2028, 2, 29), datetime(2032, 2, 29), id="29-february"),
        # A yearly rule keeps the due day's month (issue 27): Thanksgiving, the fourth
        # Thursday of November, not of the year (2027-01-28).
        pytest.param(
            "FREQ=YEARLY;BYDAY=4TH",
            datetime(2026, 11, 26, 9, 30),
            datetime(2027, 11, 25, 9, 30),
            id="yearly-place",
        ),
        # Every Monday of January: after the last of 2027, the first of 2028.
        pytest.param(
            "FREQ=YEARLY;BYDAY=MO", datetime(2027, 1, 25), datetime(2028, 1, 3), id="yearly-days"
        ),
        # The last day of February, not of March.
        pytest.param(
            "FREQ=YEARLY;BYMONTHDAY=-1",
            datetime(2027, 2, 28),
            datetime(2028, 2, 29),
            id="yearly-month-day",
        ),
        pytest.param(
            "FREQ=YEARLY;INTERVAL=2", datetime(9996, 3, 1), datetime(9998, 3, 1), id="near-9999"
        ),
        pytest.param("FREQ=DAILY", datetime(9999, 12, 30), datetime(9999, 12, 31), id="last-day"),
        pytest.param("FREQ=DAILY", datetime(1, 1, 1), datetime(1, 1, 2), id="year-1"),
        pytest.param(
            "FREQ=YEARLY;INTERVAL=300", datetime(2027, 5, 1), datetime(2327, 5, 1), id="far"
        ),
        # The longest step the subset allows, from starts whose search begins at the latest
        # point of its 400-year cycle (2227) and at the cycle's turn (2400).
        pytest.param(
            "FREQ=YEARLY;INTERVAL=999", datetime(2227, 5, 1), datetime(3226, 5, 1), id="999-years"
        ),
        pytest.param(
            "FREQ=YEARLY;INTERVAL=999", datetime(2400, 5, 1), datetime(3399, 5, 1), id="999-cycle"
        ),
    ],
)
def test_the_next_occurrence_is_the_rules_first_moment_after_the_start(
    text: str, start: datetime, expected: datetime
) -> None:
    assert parse_rule(text).next_after(start) == expected


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("FREQ=DAILY", datetime(9999, 12, 31), id="after-9999"),
        # The fifth Monday of a month is never its 1st.
        pytest.param("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1", MONDAY, id="never"),
        # A yearly rule from an April day: April has no 31st (May's is not this rule's).
        pytest.param("FREQ=YEARLY;BYMONTHDAY=31", datetime(2027, 4, 30), id="never-yearly"),
    ],
)
def test_a_rule_with_no_occurrence_left_gives_none(text: str, start: datetime) -> None:
    assert parse_rule(text).next_after(start) is None


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        # Every 7th day is the start's weekday: the rule's day, or never.
        pytest.param(
            "FREQ=DAILY;INTERVAL=7;BYDAY=MO,FR", MONDAY, MONDAY + timedelta(days=7), id="7-on"
        ),
        pytest.param("FREQ=DAILY;INTERVAL=7;BYDAY=TU", MONDAY, None, id="7-off"),
        pytest.param(
            "FREQ=DAILY;INTERVAL=14;BYDAY=MO", MONDAY, MONDAY + timedelta(days=14), id="14-on"
        ),
        pytest.param("FREQ=DAILY;INTERVAL=14;BYDAY=SU", MONDAY, None, id="14-off"),
        # Every 8th day moves on by a weekday: from a Tuesday, the 6th step is a Monday.
        pytest.param(
            "FREQ=DAILY;INTERVAL=8;BYDAY=MO",
            MONDAY + timedelta(days=1),
            MONDAY + timedelta(days=49),
            id="8-moves",
        ),
        pytest.param(
            "FREQ=DAILY;INTERVAL=6;BYDAY=SU",
            MONDAY,
            MONDAY + timedelta(days=6),
            id="6-moves",
        ),
        # Only a daily step keeps the weekday: every 7th week or month has all seven.
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=7;BYDAY=FR",
            MONDAY + timedelta(days=2),
            MONDAY + timedelta(days=4),
            id="7-weeks",
        ),
        pytest.param(
            "FREQ=MONTHLY;INTERVAL=14;BYDAY=MO",
            MONDAY + timedelta(days=2),
            MONDAY + timedelta(days=7),
            id="14-months",
        ),
    ],
)
def test_a_daily_rule_with_days_of_the_week_and_a_weekly_step(
    text: str, start: datetime, expected: datetime | None
) -> None:
    assert parse_rule(text).next_after(start) == expected


# --- UNTIL ----------------------------------------------------------------------------------

MOMENT = datetime(2027, 12, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "moment", "local_day", "allowed"),
    [
        pytest.param("FREQ=DAILY", datetime.max.replace(tzinfo=UTC), date.max, True, id="none"),
        pytest.param("FREQ=DAILY;UNTIL=20271231", MOMENT, date(2027, 12, 31), True, id="day"),
        # The local day decides, not the moment's day in UTC.
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231",
            MOMENT + timedelta(days=5),
            date(2027, 12, 31),
            True,
            id="day-local",
        ),
        pytest.param("FREQ=DAILY;UNTIL=20271231", MOMENT, date(2028, 1, 1), False, id="day-after"),
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231T170000Z", MOMENT, date(2028, 1, 1), True, id="moment"
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=20271231T170000Z",
            MOMENT + timedelta(seconds=1),
            date(2027, 12, 30),
            False,
            id="moment-after",
        ),
    ],
)
def test_until_allows_an_occurrence_up_to_its_day_or_moment_included(
    text: str, moment: datetime, local_day: date, allowed: bool
) -> None:
    assert parse_rule(text).allows(moment, local_day) is allowed


def test_a_rule_is_a_value() -> None:
    """Two reads of one text are equal, so a carried rule compares with a parsed one."""
    text = "FREQ=YEARLY;BYDAY=1MO;BYMONTHDAY=-1;UNTIL=20300101"
    assert parse_rule(text) == parse_rule(text)
    assert parse_rule(text) == Rule(
        (("FREQ", "YEARLY"), ("BYDAY", "1MO"), ("BYMONTHDAY", "-1"), ("UNTIL", "20300101")),
        "YEARLY",
        1,
        (rrule.MO(1),),
        (-1,),
        None,
        date(2030, 1, 1),
    )
