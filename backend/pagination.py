"""Opaque keyset cursors: where the next page of a list starts, for one filter and order."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime

from generated.models import TaskSort, TaskStatusFilter

MAX_CURSOR_BYTES = 512


class InvalidCursor(Exception):
    """The cursor was not issued by this server for this filter and order."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


SortKey = datetime | date | str | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last task of a page: its sort key and id, and the filter and order it was in."""

    sort: TaskSort
    status: TaskStatusFilter
    key: SortKey
    task_id: int

    def encode(self) -> str:
        key = self.key.isoformat() if isinstance(self.key, date) else self.key
        raw = json.dumps([self.sort.value, self.status.value, key, self.task_id])
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(text: str, sort: TaskSort, status: TaskStatusFilter) -> Cursor:
    """Parse a cursor for the list being asked for, or raise InvalidCursor."""
    if len(text) > MAX_CURSOR_BYTES:
        raise InvalidCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        sort_value, status_value, key, task_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidCursor("cursor is malformed: pass back an X-Next-Cursor value") from None
    if sort_value != sort.value or status_value != status.value:
        raise InvalidCursor(
            f"cursor was issued for sort={sort_value!r} and status={status_value!r}; "
            f"this request asks for sort={sort.value!r} and status={status.value!r}"
        )
    if not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 0:
        raise InvalidCursor("cursor is malformed: pass back an X-Next-Cursor value")
    return Cursor(sort, status, _parse_key(sort, key), task_id)


def _parse_key(sort: TaskSort, key: object) -> SortKey:
    try:
        if sort is TaskSort.CREATED and isinstance(key, str):
            parsed = datetime.fromisoformat(key)
            if parsed.tzinfo is not None:
                return parsed
        elif sort is TaskSort.TITLE and isinstance(key, str):
            return key
        elif sort is TaskSort.DUE_DATE and (key is None or isinstance(key, str)):
            return None if key is None else date.fromisoformat(key)
    except ValueError:
        pass
    raise InvalidCursor("cursor is malformed: pass back an X-Next-Cursor value")
