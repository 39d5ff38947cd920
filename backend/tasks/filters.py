"""The filters of a task list, normalised: what the store queries and a cursor is bound to."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from backend.tasks.search import query_words
from generated.models import TaskPriority, TaskStatusFilter


@dataclass(frozen=True, slots=True)
class TaskFilters:
    """A task is listed when it passes every filter that is set."""

    status: TaskStatusFilter = TaskStatusFilter.ALL
    priority: TaskPriority | None = None
    tags: tuple[str, ...] = ()  # sorted, each once: the task carries all of them
    due_from: date | None = None
    due_to: date | None = None
    words: tuple[str, ...] = ()  # folded, sorted, each once: each occurs in title or description
    remind_from: datetime | None = None  # sort=remind_at only: reminders at or after
    remind_to: datetime | None = None  # and before

    @classmethod
    def of(
        cls,
        status: TaskStatusFilter,
        priority: TaskPriority | None,
        tags: list[str] | None,
        due_from: date | None,
        due_to: date | None,
        query: str | None,
        remind_from: datetime | None = None,
        remind_to: datetime | None = None,
    ) -> TaskFilters:
        return cls(
            status=status,
            priority=priority,
            tags=tuple(sorted(set(tags or ()))),
            due_from=due_from,
            due_to=due_to,
            words=query_words(query) if query is not None else (),
            remind_from=in_utc(remind_from),
            remind_to=in_utc(remind_to),
        )

    def digest(self) -> str:
        """A short fingerprint of the filters other than `status`, which cursors carry.

        Empty when none is set, so a cursor of an unfiltered list is the one 1.0 issued.
        """
        if self == TaskFilters(status=self.status):
            return ""
        fields = [
            self.priority.value if self.priority is not None else None,
            list(self.tags),
            self.due_from.isoformat() if self.due_from is not None else None,
            self.due_to.isoformat() if self.due_to is not None else None,
            list(self.words),
        ]
        if self.remind_from is not None or self.remind_to is not None:
            # Only then: the digests of the filters before the reminder window stay as issued.
            fields += [_instant(self.remind_from), _instant(self.remind_to)]
        hashed = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).digest()
        return base64.urlsafe_b64encode(hashed[:12]).decode()


def in_utc(moment: datetime | None) -> datetime | None:
    """A window's bound in UTC. At the calendar's ends a moment may fall outside the years 1
    to 9999 in UTC (`0001-01-01T00:00:00+14:00`): it is before, or after, every moment a
    task can hold, so the first or the last moment of the calendar selects the same tasks."""
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def _instant(moment: datetime | None) -> str | None:
    """A moment as the same text whatever offset it was given with."""
    utc = in_utc(moment)
    return None if utc is None else utc.isoformat()
