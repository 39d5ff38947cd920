"""A task's schedule: due day, time and time zone, rule and reminder, and the moments they give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final
from zoneinfo import ZoneInfo

from backend.tasks.recurrence import InvalidRule, parse_rule

DEFAULT_TIME_ZONE: Final = "UTC"
# The zones of the pinned `tzdata` package, names and rules, so that a task means the same on
# every host: a host's zoneinfo folder also holds `localtime` (whatever the host's zone is),
# and its rules may be of another IANA release. `Factory` is in the IANA data, but is not a
# place: its offset is 0 and its abbreviation says "local time zone must be set".
ZONE_DATA: Final = "tzdata"
NOT_A_PLACE: Final = frozenset({"Factory"})
# The fields of a task that make its schedule, as clients send them.
SCHEDULE_FIELDS: Final = (
    "due_date",
    "due_time",
    "time_zone",
    "recurrence",
    "remind_before_minutes",
)
# The columns a schedule is stored in: its fields, and the moments derived from them.
SCHEDULE_COLUMNS: Final = (*SCHEDULE_FIELDS, "due_at", "remind_at")


class InvalidSchedule(Exception):
    """A schedule field is wrong, or needs another field the task does not have."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@cache
def zone_names() -> frozenset[str]:
    """Every name `time_zone` accepts: the IANA zones and links of the pinned tzdata."""
    listed = resources.files(ZONE_DATA).joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listed.split()) - NOT_A_PLACE


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone of this name, or InvalidSchedule naming `time_zone`."""
    if name not in zone_names():
        raise InvalidSchedule(
            "time_zone", f"`{name}` is not an IANA time zone name (such as Europe/Berlin or UTC)"
        )
    return _zone(name)


@cache
def _zone(name: str) -> ZoneInfo:
    rules = resources.files(ZONE_DATA).joinpath("zoneinfo", *name.split("/"))
    with rules.open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a task is due, how it recurs and when to remind of it, as its fields say."""

    due_date: date | None = None
    due_time: str | None = None  # HH:MM, local
    time_zone: str = DEFAULT_TIME_ZONE
    recurrence: str | None = None
    remind_before_minutes: int | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Schedule:
        """The schedule among a body's or a row's values (absent fields take their defaults)."""
        present = {name: values[name] for name in SCHEDULE_FIELDS if name in values}
        return cls(**present)

    def start(self) -> datetime:
        """The due moment as a local wall time (midnight without a due time): the rule's DTSTART."""
        if self.due_date is None:
            raise ValueError("a schedule without a due day has no start")
        hours, minutes = (0, 0) if self.due_time is None else _hours_minutes(self.due_time)
        return datetime.combine(self.due_date, time(hours, minutes))

    def due_at(self) -> datetime | None:
        """The due moment in UTC; None without a due time."""
        if self.due_date is None or self.due_time is None:
            return None
        try:
            return self.start().replace(tzinfo=zone_of(self.time_zone)).astimezone(UTC)
        except OverflowError:
            raise InvalidSchedule(
                "due_time", "the due moment falls outside the years 1 to 9999 in UTC"
            ) from None

    def remind_at(self) -> datetime | None:
        due_at = self.due_at()
        if due_at is None or self.remind_before_minutes is None:
            return None
        try:
            return due_at - timedelta(minutes=self.remind_before_minutes)
        except OverflowError:
            raise InvalidSchedule(
                "remind_before_minutes", "the reminder falls before the year 1 in UTC"
            ) from None

    def checked(self) -> Schedule:
        """This schedule, or InvalidSchedule naming the first field that is wrong or lacks one."""
        zone_of(self.time_zone)
        if self.due_date is None and self.due_time is not None:
            raise InvalidSchedule("due_time", "a due time needs a due day: set due_date too")
        if self.due_date is None and self.recurrence is not None:
            raise InvalidSchedule("recurrence", "a recurrence rule needs a due day: set due_date")
        if self.due_time is None and self.remind_before_minutes is not None:
            raise InvalidSchedule(
                "remind_before_minutes", "a reminder needs a due time: set due_time"
            )
        if self.recurrence is not None:
            try:
                parse_rule(self.recurrence)
            except InvalidRule as error:
                raise InvalidSchedule("recurrence", str(error)) from None
        self.remind_at()  # the moments exist
        return self

    def changed(self, changes: Mapping[str, Any]) -> Schedule:
        """The schedule after an update: a cleared day clears what needs it, unless the same
        body sets it again (then checked() names the field)."""
        values = {name: changes[name] for name in SCHEDULE_FIELDS if name in changes}
        if values.get("due_date", self.due_date) is None:
            for needs_day in ("due_time", "recurrence", "remind_before_minutes"):
                values.setdefault(needs_day, None)
        if values.get("due_time", self.due_time) is None:
            values.setdefault("remind_before_minutes", None)
        return replace(self, **values).checked()

    def columns(self) -> dict[str, Any]:
        """The stored columns: the fields, and the due and reminder moments in UTC."""
        return {
            "due_date": self.due_date,
            "due_time": self.due_time,
            "time_zone": self.time_zone,
            "recurrence": self.recurrence,
            "remind_before_minutes": self.remind_before_minutes,
            "due_at": self.due_at(),
            "remind_at": self.remind_at(),
        }

    def next_occurrence(self) -> Schedule | None:
        """The schedule of the next occurrence, from this one's due moment; None when the task
        does not recur or its rule is exhausted, which it is once its next due moment falls
        after 9999-12-31 in UTC (past the calendar's end, as if the rule stopped there)."""
        if self.recurrence is None or self.due_date is None:
            return None
        rule = parse_rule(self.recurrence)
        following = rule.next_after(self.start())
        if following is None:
            return None
        try:
            moment = following.replace(tzinfo=zone_of(self.time_zone)).astimezone(UTC)
        except OverflowError:
            return None
        if not rule.allows(moment, following.date()):
            return None
        due_time = None if self.due_time is None else following.strftime("%H:%M")
        return replace(
            self,
            due_date=following.date(),
            due_time=due_time,
            recurrence=rule.carried().text(),
        )


def _hours_minutes(text: str) -> tuple[int, int]:
    hours, minutes = text.split(":")
    return int(hours), int(minutes)
