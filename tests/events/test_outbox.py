"""The outbox: every committed change of a task has its event, written by the database in
the change's transaction, numbered per task without gaps; nothing else has one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from backend.events.outbox import Outbox
from backend.events.payloads import body_of, task_of
from backend.queries.store import OwnerId, TaskStore
from backend.storage.database import Database
from generated.models import TaskCreate, TaskUpdate
from tests.conftest import new_owner
from tests.events.conftest import recorded

pytestmark = pytest.mark.anyio

PAST_DAY = date(2026, 1, 5)
FAR_DAY = date(2099, 1, 5)


def reminded(day: date, **fields: object) -> TaskCreate:
    """A task due at 09:00 UTC on `day`, reminded 30 minutes before."""
    return TaskCreate.model_validate(
        {"title": "remind me", "due_date": day, "due_time": "09:00", "remind_before_minutes": 30}
        | fields
    )


async def test_each_change_records_its_event_numbered_per_task(store: TaskStore) -> None:
    owner = OwnerId(new_owner())
    task = await store.create(owner, TaskCreate(title="water the plants"))
    await store.update(owner, task.id, TaskUpdate(title="water the roses"))
    await store.set_completion(owner, task.id, False)  # no change: no event
    await store.toggle_completion(owner, task.id)
    await store.toggle_completion(owner, task.id)
    await store.delete(owner, task.id)

    events = await recorded(store.database, owner)
    assert [(event["type"], event["sequence"]) for event in events] == [
        ("task.created", 1),
        ("task.updated", 2),
        ("task.completed", 3),
        ("task.updated", 4),
        ("task.deleted", 5),
    ]
    assert {event["task_id"] for event in events} == {task.id}
    assert len({event["event_id"] for event in events}) == 5
    assert task_of(events[1]["task"]).title == "water the roses"
    assert task_of(events[2]["task"]).completed is True
    assert events[4]["task"] is None


async def test_the_snapshot_is_the_task_as_the_api_answers_it(store: TaskStore) -> None:
    owner = OwnerId(new_owner())
    created = await store.create(
        owner,
        reminded(
            FAR_DAY, priority="high", tags=["b", "a"], description="d", time_zone="Asia/Tokyo"
        ),
    )
    updated = await store.update(owner, created.id, TaskUpdate(priority="low"))
    events = await recorded(store.database, owner)
    assert [task_of(event["task"]) for event in events] == [created, updated.task]
    # The body validates against the event's generated model and carries the same task.
    assert b'"priority":"low"' in body_of(events[1] | {"user_id": owner})


async def test_a_completion_that_recurs_records_the_next_occurrence(store: TaskStore) -> None:
    owner = OwnerId(new_owner())
    task = await store.create(owner, reminded(FAR_DAY, recurrence="FREQ=DAILY"))
    completed = await store.set_completion(owner, task.id, True)
    following = completed.task.next_occurrence_id
    assert following is not None
    events = await recorded(store.database, owner)
    kinds = [(event["type"], event["task_id"], event["sequence"]) for event in events]
    assert kinds == [
        ("task.created", task.id, 1),
        ("task.created", following, 1),
        ("task.completed", task.id, 2),
    ]
    assert task_of(events[2]["task"]).next_occurrence_id == following


async def test_a_change_that_rolls_back_leaves_no_event(store: TaskStore) -> None:
    owner = OwnerId(new_owner())

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with store.database.transaction() as transaction:
            await store.create(owner, TaskCreate(title="never"), transaction)
            raise Abandoned
    assert await recorded(store.database, owner) == []


async def test_a_repeated_idempotent_create_has_one_event(store: TaskStore) -> None:
    from backend.queries.idempotency import IdempotencyKeys

    owner = OwnerId(new_owner())
    keys = IdempotencyKeys(store, ttl_seconds=60)
    body = TaskCreate(title="once")
    first = await keys.create_once(owner, "key-1", body)
    second = await keys.create_once(owner, "key-1", body)
    assert first.body == second.body
    assert [event["type"] for event in await recorded(store.database, owner)] == ["task.created"]


async def test_a_due_reminder_is_claimed_once_and_a_completed_one_never(
    store: TaskStore, database: Database
) -> None:
    owner = OwnerId(new_owner())
    due = await store.create(owner, reminded(PAST_DAY))
    done = await store.create(owner, reminded(PAST_DAY))
    await store.set_completion(owner, done.id, True)
    outbox = Outbox(database)
    now = datetime.now(UTC)
    claims = [await outbox.claim_reminders(now, 10_000) for _ in range(2)]
    assert claims[1] == 0
    events = [e for e in await recorded(database, owner) if e["type"] == "reminder.due"]
    assert [(event["task_id"], event["sequence"]) for event in events] == [(due.id, 2)]
    assert events[0]["occurred_at"] == due.remind_at
    # The completed task's moment passed: un-completing it sends nothing for that moment.
    await store.set_completion(owner, done.id, False)
    await outbox.claim_reminders(now, 10_000)
    assert [
        e["task_id"] for e in await recorded(database, owner) if e["type"] == "reminder.due"
    ] == [due.id]


async def test_a_moved_reminder_is_sent_at_its_new_moment_only(
    store: TaskStore, database: Database
) -> None:
    owner = OwnerId(new_owner())
    task = await store.create(owner, reminded(FAR_DAY))
    assert task.remind_at is not None
    outbox = Outbox(database)
    moved = await store.update(owner, task.id, TaskUpdate(remind_before_minutes=60))
    assert moved.task.remind_at == task.remind_at - timedelta(minutes=30)
    # Between the two moments: the old one has come, the new one had already.
    await outbox.claim_reminders(task.remind_at - timedelta(seconds=1), 10_000)
    sent = [e for e in await recorded(database, owner) if e["type"] == "reminder.due"]
    assert [event["occurred_at"] for event in sent] == [moved.task.remind_at]
    await outbox.claim_reminders(task.remind_at + timedelta(days=1), 10_000)
    again = [e for e in await recorded(database, owner) if e["type"] == "reminder.due"]
    assert len(again) == 1


async def test_a_write_by_a_release_without_events_still_records_one(
    database: Database, store: TaskStore
) -> None:
    """A previous release's server writes the row knowing nothing of events (a rolling
    release): the trigger numbers and records its change all the same."""
    owner = OwnerId(new_owner())
    task = await store.create(owner, TaskCreate(title="old"))
    statement = "UPDATE tasks SET title = 'older', updated_at = :now WHERE id = :id"
    await database.write(
        database.compile(text(statement)), {"now": datetime.now(UTC), "id": task.id}
    )
    events = await recorded(database, owner)
    assert [(event["type"], event["sequence"]) for event in events] == [
        ("task.created", 1),
        ("task.updated", 2),
    ]
    assert task_of(events[1]["task"]).title == "older"
