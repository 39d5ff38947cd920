"""Opaque keyset cursors: where the next page of a list starts, for one filter and order."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from backend import contract
from backend.storage.models import PRIORITY_RANKS
from generated.models import TaskSort, TaskStatusFilter

# The contract's bound, which fits the longest cursor issued: a title of 200 characters of
# four bytes each in UTF-8, sorted by title, with the largest id and a filter digest.
MAX_CURSOR_BYTES: Final[int] = contract.parameter("listTasks", "cursor")["max_length"]
# A cursor is not signed: every field of one is checked against what the server issues
# (its alphabet, types, ranges, and each key in the one text form the server writes), so
# that a forged cursor is a 422 and never reaches the database with a value it refuses.
CURSOR_TEXT: Final = re.compile(r"[A-Za-z0-9_-]*")
MAX_TASK_ID: Final = 2**63 - 1  # ids are 64-bit signed on both databases
MAX_TITLE_LENGTH: Final = 200


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
        # UTF-8, not \u escapes: a title of 200 non-Latin characters must fit the bound.
        raw = json.dumps(fields, ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(text: str, sort: TaskSort, status: TaskStatusFilter, filters: str) -> Cursor:
    """Parse a cursor for the list being asked for, or raise InvalidCursor."""
    if len(text) > MAX_CURSOR_BYTES:
        raise InvalidCursor("cursor is too long")
    if CURSOR_TEXT.fullmatch(text) is None:
        raise InvalidCursor(MALFORMED)
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
    if type(task_id) is not int or not 0 <= task_id <= MAX_TASK_ID:
        raise InvalidCursor(MALFORMED)
    return Cursor(sort, status, _parse_key(sort, key), task_id, filters)


def _parse_key(sort: TaskSort, key: object) -> SortKey:
    if sort is TaskSort.PRIORITY and isinstance(key, list) and len(key) == 2:
        rank, created = key
        if type(rank) is int and rank in PRIORITY_RANKS.values():
            moment = _moment(created)
            if moment is not None:
                return (rank, moment)
    elif sort in (TaskSort.CREATED, TaskSort.REMIND_AT):
        moment = _moment(key)
        if moment is not None:
            return moment
    elif sort is TaskSort.TITLE and isinstance(key, str) and _is_title(key):
        return key
    elif sort is TaskSort.DUE_DATE:
        if key is None:
            return None
        if isinstance(key, str):
            try:
                day = date.fromisoformat(key)
            except ValueError:
                pass
            else:
                if day.isoformat() == key:
                    return day
    raise InvalidCursor(MALFORMED)


def _moment(key: object) -> datetime | None:
    """A moment as the server writes one in a cursor, in UTC; None for anything else."""
    if not isinstance(key, str):
        return None
    try:
        moment = datetime.fromisoformat(key)
    except ValueError:
        return None
    if moment.utcoffset() != timedelta(0) or moment.isoformat() != key:
        return None
    return moment


def _is_title(key: str) -> bool:
    """Whether a title could be stored: no NUL, no lone surrogate, at most 200 characters."""
    if len(key) > MAX_TITLE_LENGTH or "\x00" in key:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
