"""The delivery continues the trace of the write that caused its event: the write's span is
stored with the event, each attempt is its child span, and the receiver gets that span's
`traceparent`; an untraced write stores nothing and its delivery carries no trace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace import Span, SpanKind
from sqlalchemy import text

from backend.events.outbox import Outbox
from backend.events.payloads import EVENT_MODELS
from backend.queries.store import OwnerId, TaskStore
from backend.storage.database import Database
from generated.models import TaskCreate
from tests.conftest import new_owner, token_for
from tests.events.conftest import Receiver, new_secret, relay_for, run_until
from tests.telemetry.conftest import served

pytestmark = pytest.mark.anyio

CREATE = "POST /api/{user_id}/tasks"
UPDATE = "PUT /api/{user_id}/tasks/{task_id}"
TOGGLE = "PATCH /api/{user_id}/tasks/{task_id}/complete"
DELETE = "DELETE /api/{user_id}/tasks/{task_id}"


def traced_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider that samples every span, and where its spans end up."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def traceparent_of(span: ReadableSpan | Span) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


async def traces_of(database: Database, owner: str) -> list[dict[str, Any]]:
    """`event_id`, `type` and `trace_context` of the owner's events, in recorded order."""
    statement = database.compile(
        text(
            "SELECT event_id, type, trace_context FROM task_event"
            " WHERE user_id = :owner ORDER BY id"
        )
    )
    return await database.fetch(statement, {"owner": owner})


async def write_over_http(url: str, owner: str, provider: TracerProvider | None) -> None:
    """Five requests through an app traced by `provider`, six events: a create of a recurring
    task, a create with an Idempotency-Key, an update, a completion (which creates the next
    occurrence in its transaction), and the delete of the second task."""
    headers = token_for(owner)
    tasks = f"/api/{owner}/tasks"
    async with served(url, tracer_provider=provider, webhook_relay=False) as (_, client):
        created = await client.post(
            tasks,
            json={"title": "t", "due_date": "2026-01-05", "recurrence": "FREQ=DAILY"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        task_url = f"{tasks}/{created.json()['id']}"
        keyed = await client.post(
            tasks, json={"title": "keyed"}, headers={**headers, "Idempotency-Key": "k1"}
        )
        assert keyed.status_code == 201, keyed.text
        updated = await client.put(task_url, json={"title": "u"}, headers=headers)
        assert updated.status_code == 200, updated.text
        completed = await client.patch(f"{task_url}/complete", headers=headers)
        assert completed.status_code == 200, completed.text
        deleted = await client.delete(f"{tasks}/{keyed.json()['id']}", headers=headers)
        assert deleted.status_code == 204


async def deliver_all(
    url: str, owner: str, count: int, provider: TracerProvider
) -> tuple[dict[str, httpx.Request], str]:
    """The owner's `count` events delivered by a relay traced by `provider`: the request the
    receiver got for each, by event id, and the endpoint's name. Each body is the
    contract's, with no trace in it."""
    secret = new_secret()
    relay, name = relay_for(url, [secret], tracer=provider.get_tracer("relay"))
    receiver = Receiver(secret)

    def delivered() -> list[dict[str, Any]]:
        return [body for body in receiver.accepted if body["data"]["user_id"] == owner]

    try:
        async with receiver.client() as client:
            await run_until(relay, client, lambda: len(delivered()) == count)
    finally:
        await relay.outbox.database.close()
    for body in delivered():
        assert EVENT_MODELS[body["type"]].model_validate(body).model_dump(mode="json") == body
    requests = {
        request.headers["webhook-id"]: request
        for request in receiver.attempts
        if request.headers["webhook-id"] in {body["id"] for body in delivered()}
    }
    assert all(b"trace" not in request.content for request in requests.values())
    return requests, name


def named(spans: tuple[ReadableSpan, ...], traceparent: str) -> ReadableSpan:
    """The one span a traceparent names."""
    found = [span for span in spans if traceparent_of(span) == traceparent]
    assert len(found) == 1, traceparent
    return found[0]


async def test_a_traced_write_is_delivered_in_its_trace(
    events_url: str, database: Database
) -> None:
    owner = new_owner()
    provider, exporter = traced_provider()
    await write_over_http(events_url, owner, provider)
    servers = [span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert [span.name for span in servers] == [CREATE, CREATE, UPDATE, TOGGLE, DELETE]
    create, keyed, update, toggle, _ = map(traceparent_of, servers)
    events = await traces_of(database, owner)
    assert [(event["type"], event["trace_context"]) for event in events] == [
        ("task.created", create),
        ("task.created", keyed),
        ("task.updated", update),
        ("task.created", toggle),  # the next occurrence, in the completion's transaction
        ("task.completed", toggle),
        ("task.deleted", None),  # a DELETE carries no trace to its event
    ]

    exporter.clear()
    requests, endpoint = await deliver_all(events_url, owner, len(events), provider)
    # The module's other tests may leave events this relay delivers too: their own traces.
    traces = {span.context.trace_id for span in servers}
    spans = tuple(s for s in exporter.get_finished_spans() if s.context.trace_id in traces)
    assert len(spans) == len(events) - 1  # one attempt of each traced event, nothing else
    for event in events:
        request = requests[event["event_id"]]
        if event["trace_context"] is None:
            assert "traceparent" not in request.headers
            continue
        delivery = named(spans, request.headers["traceparent"])
        write = named(tuple(servers), event["trace_context"])
        assert delivery.parent is not None
        assert (delivery.parent.trace_id, delivery.parent.span_id) == (
            write.context.trace_id,
            write.context.span_id,
        )
        assert delivery.kind == SpanKind.CLIENT
        assert delivery.name == f"deliver {event['type']}"
        assert dict(delivery.attributes or {}) == {
            "http.request.method": "POST",
            "webhook.event.type": event["type"],
            "webhook.endpoint": endpoint,
            "webhook.attempt": 1,
            "webhook.outcome": "delivered",
            "http.response.status_code": 204,
        }


@pytest.mark.parametrize("sampler", [None, ALWAYS_OFF], ids=["untraced", "unsampled"])
async def test_an_untraced_write_stores_no_trace_and_its_delivery_carries_none(
    events_url: str, database: Database, sampler: Any
) -> None:
    """No tracer (and no OTEL_* variable), or a request its sampler dropped."""
    owner = new_owner()
    app_provider = None if sampler is None else TracerProvider(sampler=sampler)
    await write_over_http(events_url, owner, app_provider)
    events = await traces_of(database, owner)
    assert len(events) == 6
    assert {event["trace_context"] for event in events} == {None}
    provider, exporter = traced_provider()  # the relay could trace: nothing asks it to
    requests, _ = await deliver_all(events_url, owner, len(events), provider)
    assert [
        name for request in requests.values() for name in request.headers if "trace" in name
    ] == []
    # Any span of an event without a trace would be a root (the module's other tests may
    # leave traced events this relay delivers too: those are children of their writes).
    assert [span.name for span in exporter.get_finished_spans() if span.parent is None] == []


async def test_each_attempt_is_a_span_of_the_write_and_sends_its_own_traceparent(
    store: TaskStore, events_url: str
) -> None:
    provider, exporter = traced_provider()
    owner = OwnerId(new_owner())
    with provider.get_tracer("test").start_as_current_span("write") as write:
        await store.create(owner, TaskCreate(title="refused once"))
    secret = new_secret()
    relay, _ = relay_for(events_url, [secret], tracer=provider.get_tracer("relay"))
    refused: list[httpx.Request] = []

    def refuse_once(_: int) -> httpx.Response:
        """500 to the first attempt of this test's event (others may be delivered too)."""
        request = receiver.attempts[-1]
        if owner.encode() not in request.content or refused:
            return httpx.Response(204)
        refused.append(request)
        return httpx.Response(500)

    receiver = Receiver(secret, refuse_once)
    try:
        async with receiver.client() as client:
            await run_until(
                relay,
                client,
                lambda: any(body["data"]["user_id"] == owner for body in receiver.accepted),
            )
    finally:
        await relay.outbox.database.close()
    mine = [request for request in receiver.attempts if owner.encode() in request.content]
    attempts = [
        span
        for span in exporter.get_finished_spans()
        if span.parent is not None and span.parent.span_id == write.get_span_context().span_id
    ]
    assert len(attempts) == len(mine) == 2
    for request, span in zip(mine, attempts, strict=True):
        assert request.headers["traceparent"] == traceparent_of(span)
        assert span.parent is not None
        assert span.parent.span_id == write.get_span_context().span_id
    first, second = (dict(span.attributes or {}) for span in attempts)
    assert (first["webhook.attempt"], first["webhook.outcome"], first["error.type"]) == (
        1,
        "retry",
        "500",
    )
    assert not attempts[0].status.is_ok
    assert (second["webhook.attempt"], second["webhook.outcome"]) == (2, "delivered")
    assert "error.type" not in second


async def test_the_row_keeps_no_trace_for_a_later_write(
    store: TaskStore, database: Database
) -> None:
    """A reminder's claim and a previous release's write (which sets no trace) pass on none
    of the trace an earlier traced write stored."""
    provider, _ = traced_provider()
    owner = OwnerId(new_owner())
    past = date.today() - timedelta(days=2)
    with provider.get_tracer("test").start_as_current_span("write") as write:
        task = await store.create(
            owner,
            TaskCreate.model_validate(
                {"title": "r", "due_date": past, "due_time": "09:00", "remind_before_minutes": 5}
            ),
        )
    kept = database.compile(text("SELECT trace_context FROM tasks WHERE id = :id"))
    assert await database.fetch(kept, {"id": task.id}) == [{"trace_context": None}]
    await Outbox(database).claim_reminders(datetime.now(UTC), 1_000)
    previous_release = database.compile(
        text("UPDATE tasks SET title = 'by 1.6', version = version + 1 WHERE id = :id")
    )
    await database.write(previous_release, {"id": task.id})
    events = await traces_of(database, owner)
    assert [(event["type"], event["trace_context"]) for event in events] == [
        ("task.created", traceparent_of(write)),
        ("reminder.due", None),
        ("task.updated", None),
    ]
