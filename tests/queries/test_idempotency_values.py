"""Idempotency keys' plain values: the lock, the fingerprint, the clock, the replay's zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC

import orjson
import pytest

from backend.queries.idempotency import _now, _replayed, fingerprint_of, location_of, lock_of
from generated.models import TaskCreate

STORED = {
    "id": 7,
    "user_id": "user-1",
    "title": "buy milk",
    "description": None,
    "completed": False,
    "due_date": None,
    "priority": "medium",
    "tags": [],
    "created_at": "2026-12-01T11:30:00.25+01:00",
    "updated_at": "2026-12-01T11:30:00.25+01:00",
}


def test_the_lock_is_a_signed_64_bit_number_of_owner_and_key() -> None:
    """Servers of two releases serving side by side must take the same lock for a key."""
    assert lock_of("alice", "k1") == -6158575719920726917
    assert lock_of("bob", "k1") == -8238604732451111539
    assert lock_of("alice", "k1") != lock_of("alice", "k2")
    assert lock_of("alice", "bk1") != lock_of("aliceb", "k1")


def test_the_fingerprint_is_stable_across_releases() -> None:
    """A key stored before an upgrade still recognises its body after it."""
    full = TaskCreate.model_validate(
        {
            "title": "buy milk",
            "due_date": "2026-12-24",
            "priority": "high",
            "tags": ["shop", "weekly"],
            "description": "2 litres",
        }
    )
    assert fingerprint_of(full) == (
        "e7ac1e2a24c973e63bd6bf692fa8fa76fd82ddeb09fa7110100b6397402870e4"
    )
    assert fingerprint_of(TaskCreate(title="buy milk")) == (
        "94a66ad3e397a8ec9b472fcec59a8161054325dffa18dc173eba9e5552dd187d"
    )


def test_the_location_names_the_owners_task() -> None:
    assert location_of("alice", 7) == "/api/alice/tasks/7"


@pytest.fixture
def local_zone_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is India's (UTC+05:30) for the test."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_zone_not_utc")
def test_the_clock_is_utc_whatever_the_local_zone() -> None:
    now = _now()
    assert now.tzinfo is UTC


@pytest.mark.usefixtures("local_zone_not_utc")
def test_a_replay_is_in_utc_whatever_the_local_zone() -> None:
    replayed = orjson.loads(_replayed(201, orjson.dumps(STORED).decode(), "/x").body)
    assert replayed["created_at"] == "2026-12-01T10:30:00.250000Z"
    assert replayed["updated_at"] == "2026-12-01T10:30:00.250000Z"


def test_a_replay_is_in_utc_whatever_the_time_zone_it_was_stored_in() -> None:
    """PostgreSQL writes the stored task's times in its session's time zone, which behind
    a transaction pooler is not the server's to set."""
    replayed = _replayed(201, orjson.dumps(STORED).decode(), "/api/user-1/tasks/7")
    body = orjson.loads(replayed.body)
    assert body["created_at"] == body["updated_at"] == "2026-12-01T10:30:00.250000Z"
