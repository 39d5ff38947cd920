"""The relay's figures: delivery attempts by outcome, and how late reminders arrive."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from backend.queries.store import OwnerId, TaskStore
from backend.telemetry.metrics import Metrics
from generated.models import TaskCreate
from tests.conftest import new_owner
from tests.events.conftest import Receiver, new_secret, relay_for, run_until

pytestmark = pytest.mark.anyio


def attempts(metrics: Metrics) -> dict[str, float]:
    name = "todo_webhook_delivery_attempts_total"
    return {
        outcome: metrics.registry.get_sample_value(name, {"outcome": outcome}) or 0.0
        for outcome in ("delivered", "retried", "gone", "failed")
    }


async def test_each_attempt_is_counted_by_its_outcome(store: TaskStore, events_url: str) -> None:
    secret = new_secret()
    relay, _ = relay_for(events_url, [secret])
    relay.metrics = metrics = Metrics(None)
    answers = [httpx.Response(500), httpx.Response(503), httpx.Response(204)]
    receiver = Receiver(secret, lambda n: answers[min(n, 3) - 1])
    await store.create(OwnerId(new_owner()), TaskCreate(title="counted"))
    async with receiver.client() as client:
        await run_until(relay, client, lambda: len(receiver.accepted) == 1)
    assert attempts(metrics) == {"delivered": 1, "retried": 2, "gone": 0, "failed": 0}
    await relay.outbox.database.close()


async def test_a_gone_endpoint_is_counted(store: TaskStore, events_url: str) -> None:
    secret = new_secret()
    relay, _ = relay_for(events_url, [secret])
    relay.metrics = metrics = Metrics(None)
    receiver = Receiver(secret, lambda _: httpx.Response(410))
    await store.create(OwnerId(new_owner()), TaskCreate(title="gone"))
    async with receiver.client() as client:
        await run_until(relay, client, lambda: attempts(metrics)["gone"] == 1)
    assert attempts(metrics) == {"delivered": 0, "retried": 0, "gone": 1, "failed": 0}
    await relay.outbox.database.close()


async def test_a_reminder_delivered_records_how_late_it_came(
    store: TaskStore, events_url: str
) -> None:
    secret = new_secret()
    relay, _ = relay_for(events_url, [secret])
    relay.metrics = metrics = Metrics(None)
    receiver = Receiver(secret)
    owner = OwnerId(new_owner())
    task = await store.create(
        owner,
        TaskCreate.model_validate(
            {
                "title": "late",
                "due_date": "2026-01-05",
                "due_time": "09:00",
                "remind_before_minutes": 30,
            }
        ),
    )
    assert task.remind_at is not None

    def reminded() -> bool:
        return any(body["type"] == "reminder.due" for body in receiver.accepted)

    async with receiver.client() as client:
        await run_until(relay, client, reminded)
    late = (datetime.now(UTC) - task.remind_at).total_seconds()
    count = metrics.registry.get_sample_value("todo_reminder_lateness_seconds_count")
    total = metrics.registry.get_sample_value("todo_reminder_lateness_seconds_sum")
    assert count == 1
    assert total is not None
    assert late - 60 < total <= late  # measured at the delivery, a moment before `late` was
    await relay.outbox.database.close()
