"""An outbox row as the body the contract declares for its event type (generated models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel

from backend.storage.database import Row
from backend.storage.models import PRIORITY_RANKS
from backend.storage.sqlite import from_sqlite_timestamp
from generated.models import (
    ReminderDueEvent,
    Task,
    TaskCompletedEvent,
    TaskCreatedEvent,
    TaskDeletedEvent,
    TaskUpdatedEvent,
)

EVENT_MODELS: Final[dict[str, type[BaseModel]]] = {
    "reminder.due": ReminderDueEvent,
    "task.created": TaskCreatedEvent,
    "task.updated": TaskUpdatedEvent,
    "task.completed": TaskCompletedEvent,
    "task.deleted": TaskDeletedEvent,
}
PRIORITY_LABELS: Final = {rank: label for label, rank in PRIORITY_RANKS.items()}
# The moments of a task's row: text without an offset on SQLite (always UTC).
MOMENTS: Final = ("created_at", "updated_at", "due_at", "remind_at")


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value) if "T" in value else from_sqlite_timestamp(value)
        return parsed.astimezone(UTC)
    return value


def task_of(snapshot: dict[str, Any]) -> Task:
    """The task as getTask answers it, from the columns the trigger copied."""
    values = dict(snapshot)
    values["priority"] = PRIORITY_LABELS[values["priority"]]
    for name in MOMENTS:
        values[name] = _moment(values[name])
    return Task.model_validate(values)


def body_of(event: Row) -> bytes:
    """The JSON body of an event: its envelope, validated by the event type's model."""
    data: dict[str, Any] = {
        "user_id": event["user_id"],
        "task_id": event["task_id"],
        "sequence": event["sequence"],
    }
    if event["task"] is not None:
        data["task"] = task_of(event["task"])
    envelope = EVENT_MODELS[event["type"]](
        id=event["event_id"],
        type=event["type"],
        timestamp=event["occurred_at"],
        data=data,
    )
    return envelope.model_dump_json(exclude_unset=False).encode()
