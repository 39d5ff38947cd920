"""A list's parameters as plain values: search words, the filters' digest, keyset cursors."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from backend.tasks.filters import TaskFilters, in_utc
from backend.tasks.pagination import (
    MALFORMED,
    MAX_CURSOR_BYTES,
    Cursor,
    InvalidCursor,
    decode_cursor,
)
from backend.tasks.search import fts_query, like_pattern, query_words
from generated.models import TaskPriority, TaskSort, TaskStatusFilter

CREATED = datetime(2026, 12, 1, 8, 30, 15, 250000, tzinfo=UTC)


def test_query_words_are_folded_each_once_and_sorted() -> None:
    assert query_words("  Été\tété  MILK milk b ") == ("b", "milk", "été")


def test_a_like_pattern_escapes_its_wildcards_and_the_escape() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
    assert like_pattern("") == "%%"


def test_the_fts_query_quotes_each_word_of_three_characters_or_more() -> None:
    assert fts_query(("ab", "abc", 'say"hi')) == '"abc" AND "say""hi"'
    assert fts_query(("abcd",)) == '"abcd"'
    assert fts_query(("a", "ab")) is None
    assert fts_query(()) is None


def filters(**set_: object) -> TaskFilters:
    fields: dict[str, object] = {
        "status": TaskStatusFilter.ALL,
        "priority": None,
        "tags": None,
        "due_from": None,
        "due_to": None,
        "query": None,
    }
    return TaskFilters.of(**{**fields, **set_})  # type: ignore[arg-type]


def test_filters_are_normalised() -> None:
    normalised = filters(tags=["b", "a", "b"], query="Milk  été milk")
    assert normalised.tags == ("a", "b")
    assert normalised.words == ("milk", "été")
    assert filters(query=None).words == ()


@pytest.mark.parametrize("status", list(TaskStatusFilter))
def test_without_filters_the_digest_is_empty_whatever_the_status(status: TaskStatusFilter) -> None:
    """A cursor of an unfiltered list stays the one release 1.0 issued."""
    assert filters(status=status).digest() == ""


def test_the_digest_is_stable_across_releases() -> None:
    """A cursor issued before an upgrade is still accepted after it: the digest of given
    filters never changes (12 bytes of SHA-256 of their JSON, non-ASCII kept as is)."""
    assert filters(query="été").digest() == "JigsTz21Hx2HK2qB"
    assert (
        filters(
            priority=TaskPriority.HIGH,
            tags=["work"],
            due_from=date(2026, 12, 1),
            due_to=date(2026, 12, 31),
        ).digest()
        == "SOBqfSk9SzwmK7lU"
    )


@pytest.fixture
def server_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Asia/Tokyo: "UTC" must not mean "the server's"."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


EAST = timezone(timedelta(hours=14))
WEST = timezone(timedelta(hours=-14))


@pytest.mark.parametrize(
    ("given", "bound"),
    [
        (datetime(2027, 5, 10, 9, 0, tzinfo=EAST), datetime(2027, 5, 9, 19, 0, tzinfo=UTC)),
        (datetime(1, 1, 1, tzinfo=EAST), datetime.min.replace(tzinfo=UTC)),
        (datetime(1, 1, 1, 14, 0, tzinfo=EAST), datetime(1, 1, 1, tzinfo=UTC)),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=WEST), datetime.max.replace(tzinfo=UTC)),
        (
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(minutes=1))),
            datetime.max.replace(tzinfo=UTC),
        ),
        (datetime(9999, 12, 31, 9, 59, tzinfo=WEST), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
    ],
)
@pytest.mark.usefixtures("server_in_tokyo")
def test_a_reminder_windows_bounds_are_held_in_utc_within_the_calendar(
    given: datetime, bound: datetime
) -> None:
    window = filters(remind_from=given, remind_to=given)
    assert (window.remind_from, window.remind_to) == (bound, bound)
    for moment in (window.remind_from, window.remind_to):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)
    assert in_utc(None) is None


def test_a_reminder_window_is_digested_by_its_instants() -> None:
    start = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)
    end = datetime(2027, 5, 11, 9, 0, tzinfo=UTC)
    digests = {
        filters(remind_from=start).digest(),
        filters(remind_to=start).digest(),
        filters(remind_from=start, remind_to=end).digest(),
        filters(remind_from=start, remind_to=start).digest(),
    }
    assert len(digests) == 4
    assert "" not in digests
    # The same instants written with other offsets: the same window, the same cursor.
    assert (
        filters(remind_from=start.astimezone(EAST), remind_to=end.astimezone(WEST)).digest()
        == filters(remind_from=start, remind_to=end).digest()
    )
    # The other filters still count beside a window.
    assert filters(query="a", remind_from=start).digest() != (
        filters(query="b", remind_from=start).digest()
    )
    # Set before the reminder window existed, the digest of the other filters is unchanged.
    with_window = filters(query="été", remind_from=start)
    assert with_window.digest() != filters(query="été").digest() == "JigsTz21Hx2HK2qB"


def test_each_filter_changes_the_digest() -> None:
    digests = {
        filters(priority=TaskPriority.LOW).digest(),
        filters(tags=["a"]).digest(),
        filters(due_from=date(2026, 1, 1)).digest(),
        filters(due_to=date(2026, 1, 1)).digest(),
        filters(query="a").digest(),
    }
    assert len(digests) == 5
    assert "" not in digests


def encoded(fields: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        (TaskSort.CREATED, CREATED),
        (TaskSort.TITLE, "Buy milk"),
        (TaskSort.DUE_DATE, date(2026, 12, 24)),
        (TaskSort.DUE_DATE, None),
        (TaskSort.PRIORITY, (3, CREATED)),
        (TaskSort.PRIORITY, (1, CREATED.replace(microsecond=0))),
        (TaskSort.REMIND_AT, datetime(1, 1, 1, tzinfo=UTC)),
        (TaskSort.REMIND_AT, datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        (TaskSort.TITLE, "é" * 200),
    ],
)
@pytest.mark.parametrize("digest", ["", "JigsTz21Hx2HK2qB"])
def test_a_cursor_reads_back_as_issued(sort: TaskSort, key: object, digest: str) -> None:
    cursor = Cursor(sort, TaskStatusFilter.PENDING, key, 42, digest)  # type: ignore[arg-type]
    text = cursor.encode()
    assert "=" not in text
    assert decode_cursor(text, sort, TaskStatusFilter.PENDING, digest) == cursor


def test_an_unfiltered_cursor_has_the_four_fields_of_release_1_0() -> None:
    text = Cursor(TaskSort.TITLE, TaskStatusFilter.ALL, "a", 7).encode()
    assert text == encoded(["title", "all", "a", 7])
    assert Cursor(TaskSort.TITLE, TaskStatusFilter.ALL, "a", 7, "d").encode() == encoded(
        ["title", "all", "a", 7, "d"]
    )


def test_a_cursor_for_another_sort_or_status_names_both() -> None:
    text = Cursor(TaskSort.TITLE, TaskStatusFilter.ALL, "a", 7).encode()
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(text, TaskSort.CREATED, TaskStatusFilter.ALL, "")
    assert raised.value.reason == (
        "cursor was issued for sort='title' and status='all'; "
        "this request asks for sort='created' and status='all'"
    )
    assert str(raised.value) == raised.value.reason
    with pytest.raises(InvalidCursor, match=r"status=.all.; .* status=.pending."):
        decode_cursor(text, TaskSort.TITLE, TaskStatusFilter.PENDING, "")


@pytest.mark.parametrize(("issued", "asked"), [("", "d"), ("d", ""), ("d", "e")])
def test_a_cursor_for_other_filters_is_refused(issued: str, asked: str) -> None:
    text = Cursor(TaskSort.TITLE, TaskStatusFilter.ALL, "a", 7, issued).encode()
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(text, TaskSort.TITLE, TaskStatusFilter.ALL, asked)
    assert raised.value.reason == (
        "cursor was issued for other filters (priority, tag, due_from, due_to or q) "
        "than this request's"
    )


def test_a_cursor_longer_than_the_limit_is_too_long() -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor("A" * (MAX_CURSOR_BYTES + 1), TaskSort.TITLE, TaskStatusFilter.ALL, "")
    assert raised.value.reason == "cursor is too long"
    with pytest.raises(InvalidCursor) as at_limit:
        decode_cursor("A" * MAX_CURSOR_BYTES, TaskSort.TITLE, TaskStatusFilter.ALL, "")
    assert at_limit.value.reason == MALFORMED


@pytest.mark.parametrize(
    ("sort", "fields"),
    [
        (TaskSort.TITLE, ["title", "all", "a"]),
        (TaskSort.TITLE, ["title", "all", "a", 7, "d", "e"]),
        (TaskSort.TITLE, ["title", "all", "a", 7, ""]),
        (TaskSort.TITLE, ["title", "all", "a", 7, 5]),
        (TaskSort.TITLE, ["title", "all", "a", -1]),
        (TaskSort.TITLE, ["title", "all", "a", True]),
        (TaskSort.TITLE, ["title", "all", "a", 7.0]),
        (TaskSort.TITLE, ["title", "all", "a", "7"]),
        (TaskSort.TITLE, ["title", "all", 1, 7]),
        (TaskSort.CREATED, ["created", "all", "2026-12-01T08:30:15", 7]),
        (TaskSort.CREATED, ["created", "all", "yesterday", 7]),
        (TaskSort.CREATED, ["created", "all", None, 7]),
        (TaskSort.DUE_DATE, ["due_date", "all", "2026-13-01", 7]),
        (TaskSort.DUE_DATE, ["due_date", "all", 20261201, 7]),
        (TaskSort.PRIORITY, ["priority", "all", [4, CREATED.isoformat()], 7]),
        (TaskSort.PRIORITY, ["priority", "all", [True, CREATED.isoformat()], 7]),
        (TaskSort.PRIORITY, ["priority", "all", [3, "2026-12-01T08:30:15"], 7]),
        (TaskSort.PRIORITY, ["priority", "all", [3, CREATED.isoformat(), 1], 7]),
        (TaskSort.PRIORITY, ["priority", "all", [3, 5], 7]),
        (TaskSort.PRIORITY, ["priority", "all", CREATED.isoformat(), 7]),
        (TaskSort.PRIORITY, ["priority", "all", [3, "soon"], 7]),
        (TaskSort.PRIORITY, ["priority", "all", 5, 7]),
        (TaskSort.TITLE, ["title", "all", ["a", "b"], 7]),
        # Forged: each field out of what the server issues (ids are 64-bit, keys are in UTC
        # and in the server's own text form, titles are storable).
        (TaskSort.CREATED, ["created", "all", CREATED.isoformat(), 2**63]),
        (TaskSort.TITLE, ["title", "all", "a", 2**64 + 1]),
        (TaskSort.TITLE, ["title", "all", "\ud800", 7]),
        (TaskSort.TITLE, ["title", "all", "a\u0000b", 7]),
        (TaskSort.TITLE, ["title", "all", "t" * 201, 7]),
        (TaskSort.CREATED, ["created", "all", "9999-12-31T23:59:59-14:00", 7]),
        (TaskSort.CREATED, ["created", "all", "0001-01-01T00:00:00+14:00", 7]),
        (TaskSort.CREATED, ["created", "all", "2026-12-01T08:30:15+05:30", 7]),
        (TaskSort.CREATED, ["created", "all", "2026-12-01T08:30:15.250+00:00", 7]),
        (TaskSort.CREATED, ["created", "all", "2026-12-01 08:30:15+00:00", 7]),
        (TaskSort.REMIND_AT, ["remind_at", "all", "9999-12-31T23:59:59-00:01", 7]),
        (TaskSort.PRIORITY, ["priority", "all", [3, "0001-01-01T00:00:00+14:00"], 7]),
        (TaskSort.DUE_DATE, ["due_date", "all", "20261201", 7]),
        (TaskSort.DUE_DATE, ["due_date", "all", "2026-W49-1", 7]),
    ],
)
def test_a_malformed_cursor_is_refused(sort: TaskSort, fields: list[object]) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(encoded(fields), sort, TaskStatusFilter.ALL, "")
    assert raised.value.reason == MALFORMED


@pytest.mark.parametrize(
    "text", ["!!!!", "e30", "bm90IGpzb24", "W10", "Ig", "W10=", "W1.0", "W 10", "W1+0", "W1/0"]
)
def test_a_cursor_that_is_not_a_list_of_fields_is_malformed(text: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(text, TaskSort.TITLE, TaskStatusFilter.ALL, "")
    assert raised.value.reason == MALFORMED


def test_the_largest_64_bit_id_is_accepted() -> None:
    fields: list[object] = ["title", "all", "a", 2**63 - 1]
    cursor = decode_cursor(encoded(fields), TaskSort.TITLE, TaskStatusFilter.ALL, "")
    assert cursor.task_id == 2**63 - 1


def test_task_id_zero_is_accepted() -> None:
    cursor = decode_cursor(
        encoded(["title", "all", "a", 0]), TaskSort.TITLE, TaskStatusFilter.ALL, ""
    )
    assert cursor.task_id == 0
