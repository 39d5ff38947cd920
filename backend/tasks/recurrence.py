"""Recurrence rules: the contract's subset of RFC 5545 RRULE, read and evaluated by dateutil."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Literal

from dateutil import rrule

FREQUENCIES: Final[dict[str, Literal[0, 1, 2, 3, 4, 5, 6]]] = {
    "DAILY": rrule.DAILY,
    "WEEKLY": rrule.WEEKLY,
    "MONTHLY": rrule.MONTHLY,
    "YEARLY": rrule.YEARLY,
}
WEEKDAYS: Final = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
# Where a place in the month (`1MO`, `-1FR`) and days of the month mean something.
BY_MONTH_FREQUENCIES: Final = frozenset({"MONTHLY", "YEARLY"})
MAX_INTERVAL: Final = 999
MAX_COUNT: Final = 1000
# dateutil looks for a rule's next occurrence until year 9999, however far away: a rule that
# cannot match (a fifth Monday that is the 1st) costs seconds from year 2027. The Gregorian
# calendar repeats every 400 years (days, weekdays, leap years), so the search runs on the
# same dates moved by whole cycles to start between SEARCH_YEARS and SEARCH_YEARS + 400 years
# before 9999: an occurrence more than SEARCH_YEARS after the start is not found (the rule
# counts as exhausted), which a yearly rule's longest step (999 years) never is, and the
# search costs tens of milliseconds at most (a monthly rule that never matches).
CYCLE_YEARS: Final = 400
SEARCH_YEARS: Final = MAX_INTERVAL + 1
LAST_SEARCH_START: Final = 9999 - SEARCH_YEARS

_DAY = re.compile(r"([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)")
_NUMBER = re.compile(r"[+-]?[0-9]{1,4}")
_UNTIL_DAY = re.compile(r"[0-9]{8}")
_UNTIL_MOMENT = re.compile(r"[0-9]{8}T[0-9]{6}Z")
KNOWN_PARTS: Final = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL")


class InvalidRule(ValueError):
    """The text is not a rule of the contract's subset; the message names the part at fault."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed rule. `parts` keeps the client's text (order included) for carrying it over."""

    parts: tuple[tuple[str, str], ...]
    frequency: str
    interval: int
    weekdays: tuple[rrule.weekday, ...]
    month_days: tuple[int, ...]
    count: int | None
    until: date | datetime | None  # a local day, or a moment in UTC

    def text(self) -> str:
        return ";".join(f"{name}={value}" for name, value in self.parts)

    def carried(self) -> Rule:
        """The rule of the next occurrence: one occurrence fewer left, when COUNT says so."""
        if self.count is None:
            return self
        count = self.count - 1
        parts = tuple(
            (name, str(count) if name == "COUNT" else value) for name, value in self.parts
        )
        return Rule(
            parts,
            self.frequency,
            self.interval,
            self.weekdays,
            self.month_days,
            count,
            self.until,
        )

    def next_after(self, start: datetime) -> datetime | None:
        """The first occurrence after `start` (a local wall time, naive), or None when the rule
        is exhausted by COUNT, or has none within SEARCH_YEARS of `start`."""
        if self.count is not None and self.count <= 1:
            return None
        weekdays = {day.weekday for day in self.weekdays}
        if self.frequency == "DAILY" and self.interval % 7 == 0 and weekdays:
            # Every 7th day is the start's weekday: dateutil would search until year 9999.
            return self._search(start) if start.weekday() in weekdays else None
        return self._search(start)

    def _search(self, start: datetime) -> datetime | None:
        shift = CYCLE_YEARS * max(0, (LAST_SEARCH_START - start.year) // CYCLE_YEARS)
        moved = start.replace(year=start.year + shift)
        # The contract's yearly rule keeps the due day's month: its days of the week, places
        # in the month (`4TH`) and days of the month fall in that month of each year. RFC 5545
        # counts a yearly `4TH` in the year and spreads BYDAY and BYMONTHDAY over all twelve
        # months unless BYMONTH names one, which the subset leaves out: the rule is given it.
        found = rrule.rrule(
            FREQUENCIES[self.frequency],
            dtstart=moved,
            interval=self.interval,
            bymonth=moved.month if self.frequency == "YEARLY" else None,
            byweekday=self.weekdays or None,
            bymonthday=self.month_days or None,
            cache=False,
        ).after(moved, inc=False)
        return None if found is None else found.replace(year=found.year - shift)

    def allows(self, moment: datetime, local_day: date) -> bool:
        """Whether an occurrence at `moment` (aware) on `local_day` is within UNTIL."""
        if self.until is None:
            return True
        if isinstance(self.until, datetime):
            return moment <= self.until
        return local_day <= self.until


def parse_rule(text: str) -> Rule:
    """Read a rule of the subset, or raise InvalidRule saying which part is wrong."""
    parts: list[tuple[str, str]] = []
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if not equals or not name or not value:
            raise InvalidRule(f"`{part}` is not NAME=VALUE (parts are separated by `;`)")
        if name not in KNOWN_PARTS:
            raise InvalidRule(
                f"`{name}` is not a part this server accepts (one of {', '.join(KNOWN_PARTS)})"
            )
        if any(name == seen for seen, _ in parts):
            raise InvalidRule(f"`{name}` is given twice")
        parts.append((name, value))
    values = dict(parts)
    if "FREQ" not in values:
        raise InvalidRule("`FREQ` is required (DAILY, WEEKLY, MONTHLY or YEARLY)")
    frequency = values["FREQ"]
    if frequency not in FREQUENCIES:
        raise InvalidRule(f"FREQ `{frequency}` is not DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in values and "UNTIL" in values:
        raise InvalidRule("`COUNT` and `UNTIL` cannot both be given")
    return Rule(
        tuple(parts),
        frequency,
        _number(values, "INTERVAL", 1, MAX_INTERVAL) or 1,
        _weekdays(values.get("BYDAY"), frequency),
        _month_days(values.get("BYMONTHDAY"), frequency),
        _number(values, "COUNT", 1, MAX_COUNT),
        _until(values.get("UNTIL")),
    )


def _number(values: dict[str, str], name: str, low: int, high: int) -> int | None:
    if name not in values:
        return None
    text = values[name]
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidRule(f"{name} `{text}` is not a whole number from {low} to {high}")
    return int(text)


def _weekdays(text: str | None, frequency: str) -> tuple[rrule.weekday, ...]:
    if text is None:
        return ()
    days: list[rrule.weekday] = []
    for item in text.split(","):
        match = _DAY.fullmatch(item)
        if match is None:
            raise InvalidRule(
                f"BYDAY `{item}` is not a day (MO, TU, WE, TH, FR, SA, SU), "
                "optionally after its place in the month (1MO, -1FR)"
            )
        place, day = match.groups()
        if place is None:
            days.append(WEEKDAYS[day])
            continue
        if frequency not in BY_MONTH_FREQUENCIES:
            raise InvalidRule(f"BYDAY `{item}`: a place in the month needs FREQ=MONTHLY or YEARLY")
        if int(place) == 0:
            raise InvalidRule(f"BYDAY `{item}`: the place is 1 to 5 or -1 to -5")
        days.append(WEEKDAYS[day](int(place)))
    return tuple(days)


def _month_days(text: str | None, frequency: str) -> tuple[int, ...]:
    if text is None:
        return ()
    if frequency not in BY_MONTH_FREQUENCIES:
        raise InvalidRule("BYMONTHDAY needs FREQ=MONTHLY or YEARLY")
    days: list[int] = []
    for item in text.split(","):
        if _NUMBER.fullmatch(item) is None or not 1 <= abs(int(item)) <= 31:
            raise InvalidRule(
                f"BYMONTHDAY `{item}` is not a day of the month, 1 to 31 or -31 to -1"
            )
        days.append(int(item))
    return tuple(days)


def _until(text: str | None) -> date | datetime | None:
    if text is None:
        return None
    try:
        if _UNTIL_DAY.fullmatch(text):
            return datetime.strptime(text, "%Y%m%d").date()
        if _UNTIL_MOMENT.fullmatch(text):
            return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        pass
    raise InvalidRule(
        f"UNTIL `{text}` is not a day (YYYYMMDD) or a moment in UTC (YYYYMMDDTHHMMSSZ)"
    )
