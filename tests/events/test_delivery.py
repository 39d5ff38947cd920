"""Delivery: each event reaches its endpoints signed per Standard Webhooks, again and again
until accepted, within the max age, and what fails is listed and can be sent again."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend.events.delivery import Backoff, attempt, retry_after_seconds
from backend.events.operations import Operations
from backend.events.payloads import EVENT_MODELS
from backend.queries.store import OwnerId, TaskStore
from backend.settings import WebhookEndpoint
from backend.storage.database import Database
from generated.models import TaskCreate, TaskUpdate
from tests.conftest import new_owner
from tests.events.conftest import Receiver, endpoint, new_secret, relay_for, run_until

pytestmark = pytest.mark.anyio


def mine(receiver: Receiver, owner: str) -> list[dict[str, Any]]:
    return [body for body in receiver.accepted if body["data"]["user_id"] == owner]


async def test_each_event_type_arrives_signed_in_its_contract_shape(
    store: TaskStore, events_url: str
) -> None:
    secret = new_secret()
    relay, _ = relay_for(events_url, [secret])
    receiver = Receiver(secret)
    owner = OwnerId(new_owner())
    task = await store.create(
        owner,
        TaskCreate(title="t", due_date=date(2026, 1, 1), due_time="09:00", remind_before_minutes=5),
    )
    await store.update(owner, task.id, TaskUpdate(title="u"))
    async with receiver.client() as client:
        await run_until(relay, client, lambda: len(mine(receiver, owner)) == 3)
        await store.toggle_completion(owner, task.id)
        await store.delete(owner, task.id)
        await run_until(relay, client, lambda: len(mine(receiver, owner)) == 5)
    bodies = sorted(mine(receiver, owner), key=lambda body: body["data"]["sequence"])
    assert [body["type"] for body in bodies] == [
        "task.created",
        "task.updated",
        "reminder.due",
        "task.completed",
        "task.deleted",
    ]
    for body in bodies:
        EVENT_MODELS[body["type"]].model_validate(body)
    ids = [request.headers["webhook-id"] for request in receiver.attempts]
    assert sorted(ids) == sorted(body["id"] for body in receiver.accepted)
    await relay.outbox.database.close()


async def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    rotating = WebhookEndpoint.model_validate(endpoint("r", [new, old]))
    for secret in (old, new):
        receiver = Receiver(secret)
        async with receiver.client() as client:
            outcome = await attempt(client, rotating, "evt_1", b'{"id":"evt_1"}')
        assert outcome.verdict == "delivered"
    stranger = Receiver(new_secret())
    async with stranger.client() as client:
        with pytest.raises(Exception, match="No matching signature"):
            await attempt(client, rotating, "evt_1", b"{}")


async def test_a_refused_event_comes_again_with_its_id_after_retry_after(
    store: TaskStore, events_url: str
) -> None:
    secret = new_secret()
    # Retry-After is honoured up to WEBHOOK_RETRY_MAX_SECONDS, here 5 s.
    relay, _ = relay_for(events_url, [secret], webhook_retry_max_seconds=5)
    answers = [
        httpx.Response(500),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(200),
    ]
    receiver = Receiver(secret, lambda n: answers[min(n, 3) - 1])
    owner = OwnerId(new_owner())
    await store.create(owner, TaskCreate(title="again"))
    async with receiver.client() as client:
        await run_until(relay, client, lambda: len(receiver.attempts) == 3)
    # From the refusal's arrival: the relay's next attempt is due a second after it recorded
    # the refusal, which it did after the receiver answered.
    waited = receiver.attempted_at[2] - receiver.attempted_at[1]
    assert waited >= 1.0  # Retry-After: 1, against a backoff of 0.01-0.02 s
    assert len({request.headers["webhook-id"] for request in receiver.attempts}) == 1
    assert len(mine(receiver, owner)) == 1
    await relay.outbox.database.close()


async def test_410_disables_the_endpoint_until_an_operator_enables_it(
    store: TaskStore, database: Database, events_url: str
) -> None:
    secret = new_secret()
    relay, name = relay_for(events_url, [secret])
    gone = True
    receiver = Receiver(secret, lambda _: httpx.Response(410 if gone else 204))
    owner = OwnerId(new_owner())
    await store.create(owner, TaskCreate(title="first"))
    operations = Operations(database)
    async with receiver.client() as client:
        await run_until(relay, client, lambda: len(receiver.attempts) == 1)
        await store.create(owner, TaskCreate(title="second"))
        for _ in range(5):
            await relay.tick(client)
            await relay.drain()
        assert len(receiver.attempts) == 1  # disabled: the second event waits
        assert [row[0] for row in await operations.disabled()] == [name]
        gone = False
        assert await operations.enable(name)
        await run_until(relay, client, lambda: len(mine(receiver, owner)) == 1)
        since = datetime.now(UTC) - timedelta(hours=1)
        failed = await operations.failed(since, name)
        assert [(row.type, row.last_status) for row in failed] == [("task.created", 410)]
        again = await operations.redeliver(
            datetime.now(UTC), timedelta(hours=1), since=since, endpoint=name
        )
        assert again == 1
        await run_until(relay, client, lambda: len(mine(receiver, owner)) == 2)
    assert sorted(body["data"]["task"]["title"] for body in mine(receiver, owner)) == [
        "first",
        "second",
    ]
    await relay.outbox.database.close()


async def test_past_its_max_age_an_event_is_failed_listed_and_redeliverable(
    store: TaskStore, database: Database, events_url: str
) -> None:
    secret = new_secret()
    relay, name = relay_for(events_url, [secret], webhook_max_age_seconds=0.2)
    healthy = False
    receiver = Receiver(secret, lambda _: httpx.Response(204 if healthy else 503))
    owner = OwnerId(new_owner())
    task = await store.create(owner, TaskCreate(title="late"))
    operations = Operations(database)
    since = datetime.now(UTC) - timedelta(hours=1)

    async def failed_ids() -> list[str]:
        return [row.event_id for row in await operations.failed(since, name)]

    async with receiver.client() as client:
        deadline = time.monotonic() + 10
        while not await failed_ids():
            assert time.monotonic() < deadline, "never failed"
            await relay.tick(client)
            await relay.drain()
            await asyncio.sleep(0.02)
        [failed] = await operations.failed(since, name)
        assert (failed.task_id, failed.last_status) == (task.id, 503)
        assert failed.attempts >= 2
        attempts = len(receiver.attempts)
        for _ in range(3):
            await relay.tick(client)
            await relay.drain()
        assert len(receiver.attempts) == attempts  # failed is final until redelivered
        healthy = True
        redelivered = await operations.redeliver(
            datetime.now(UTC), timedelta(hours=1), since=since, event_id=failed.event_id
        )
        assert redelivered == 1
        await run_until(relay, client, lambda: len(mine(receiver, owner)) == 1)
    assert mine(receiver, owner)[0]["id"] == failed.event_id
    await relay.outbox.database.close()


async def test_no_answer_in_time_is_retried() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    secret = new_secret()
    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
        outcome = await attempt(
            client, WebhookEndpoint.model_validate(endpoint("t", [secret])), "evt_2", b"{}"
        )
    assert (outcome.verdict, outcome.status) == ("retry", None)
    assert "WEBHOOK_TIMEOUT_SECONDS" in outcome.error


def test_backoff_doubles_up_to_its_ceiling_with_jitter() -> None:
    backoff = Backoff(base=5, most=60)
    for attempts, ceiling in ((1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (30, 60)):
        delays = [backoff.delay(attempts) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # spread, not one moment
    assert backoff.delay(1, retry_after=30) == 30
    assert backoff.delay(1, retry_after=3600) == 60


def test_retry_after_is_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
