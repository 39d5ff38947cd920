"""Opaque keyset cursors: where the next page of a list starts, for one filter and order."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime

from backend.models import PRIORITY_RANKS
from generated.models import TaskSort, TaskStatusFilter

MAX_CURSOR_BYTES = 512


class InvalidCursor(Exception):
    """The cursor was not issued by this server for this filter and order."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# sort=priority pages by (priority rank, created_at); the others by one column.
SortKey = datetime | date | str | tuple[int, datetime] | None
MALFORMED = "cursor is malformed: pass back an X-Next-Cursor value"


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last task of a page: its sort key and id, and the filters and order it was in.

    `filters` is the fingerprint of the filters other than `status` (empty when there are
    none, which keeps the cursors of unfiltered lists as they were).
    """

    sort: TaskSort
    status: TaskStatusFilter
    key: SortKey
    task_id: int
    filters: str = ""

    def encode(self) -> str:
        key: object = self.key
        if isinstance(self.key, date):
            key = self.key.isoformat()
        elif isinstance(self.key, tuple):
            key = [self.key[0], self.key[1].isoformat()]
        fields: list[object] = [self.sort.value, self.status.value, key, self.task_id]
        if self.filters:
            fields.append(self.filters)
        raw = json.dumps(fields)
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(text: str, sort: TaskSort, status: TaskStatusFilter, filters: str) -> Cursor:
    """Parse a cursor for the list being asked for, or raise InvalidCursor."""
    if len(text) > MAX_CURSOR_BYTES:
        raise InvalidCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        fields = json.loads(raw)
        sort_value, status_value, key, task_id, *rest = fields
    except (binascii.Error, ValueError, TypeError):
        raise InvalidCursor(MALFORMED) from None
    if len(rest) > 1 or (rest and (not isinstance(rest[0], str) or not rest[0])):
        raise InvalidCursor(MALFORMED)
    if sort_value != sort.value or status_value != status.value:
        raise InvalidCursor(
            f"cursor was issued for sort={sort_value!r} and status={status_value!r}; "
            f"this request asks for sort={sort.value!r} and status={status.value!r}"
        )
    if (rest[0] if rest else "") != filters:
        raise InvalidCursor(
            "cursor was issued for other filters (priority, tag, due_from, due_to or q) "
            "than this request's"
        )
    if not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 0:
        raise InvalidCursor(MALFORMED)
    return Cursor(sort, status, _parse_key(sort, key), task_id, filters)


def _parse_key(sort: TaskSort, key: object) -> SortKey:
    try:
        if sort is TaskSort.PRIORITY and isinstance(key, list) and len(key) == 2:
            rank, created = key
            if type(rank) is int and rank in PRIORITY_RANKS.values() and isinstance(created, str):
                parsed = datetime.fromisoformat(created)
                if parsed.tzinfo is not None:
                    return (rank, parsed)
        elif sort in (TaskSort.CREATED, TaskSort.REMIND_AT) and isinstance(key, str):
            parsed = datetime.fromisoformat(key)
            if parsed.tzinfo is not None:
                return parsed
        elif sort is TaskSort.TITLE and isinstance(key, str):
            return key
        elif sort is TaskSort.DUE_DATE and (key is None or isinstance(key, str)):
            return None if key is None else date.fromisoformat(key)
    except ValueError:
        pass
    raise InvalidCursor(MALFORMED)
