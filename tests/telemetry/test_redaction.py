"""Nothing a caller sends leaks into telemetry: no token, title, description, query value
or user id in a span (every span sampled here), a metric label or a log line."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from backend.http.log_format import JsonFormatter
from tests.conftest import new_owner, token_for
from tests.telemetry.conftest import served
from tests.telemetry.scrape import scrape

pytestmark = pytest.mark.anyio


async def test_spans_labels_and_log_lines_hold_no_input(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    owner = new_owner()
    headers = token_for(owner)
    token = headers["Authorization"].removeprefix("Bearer ")
    secrets = {
        "title": "title7f3a",
        "description": "description9b2c",
        "query": "query5d1e",
        "tag": "tag8c4f",
        "rejected": "rejected1a2b",
    }
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    caplog.set_level(logging.DEBUG, logger="backend")
    async with served(database_url, tracer_provider=provider) as (_, client):
        created = await client.post(
            f"/api/{owner}/tasks",
            json={
                "title": secrets["title"],
                "description": secrets["description"],
                "tags": [secrets["tag"]],
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        task_url = f"/api/{owner}/tasks/{created.json()['id']}"
        listed = await client.get(
            f"/api/{owner}/tasks",
            params={"q": secrets["query"], "tag": secrets["tag"]},
            headers=headers,
        )
        assert listed.status_code == 200
        rejected = await client.put(
            task_url, json={"title": secrets["rejected"] * 50}, headers=headers
        )
        assert rejected.status_code == 422
        forged = await client.get(f"/api/{owner}/tasks?access_token={token}")
        assert forged.status_code == 401
        page = await scrape(client)
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert {
        "POST /api/{user_id}/tasks",
        "GET /api/{user_id}/tasks",
        "PUT /api/{user_id}/tasks/{task_id}",
    } <= names
    assert any(name.startswith("SELECT ") for name in names)  # the statements are traced
    # What the server writes: its own loggers' lines and uvicorn's, at any level they log.
    lines = [
        JsonFormatter().format(record)
        for record in caplog.records
        if record.name.split(".")[0] in ("backend", "uvicorn")
    ]
    assert any('"trace_id"' in line for line in lines)
    exported = {
        "spans": "\n".join(span.to_json() for span in spans),
        "metrics": page.text,
        "logs": "\n".join(lines),
    }
    for where, text in exported.items():
        for what, value in [*secrets.items(), ("token", token), ("user id", owner)]:
            assert value not in text, f"the {what} is in the {where}"
