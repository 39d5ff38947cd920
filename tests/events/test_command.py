"""`python -m backend.events`: what an operator runs to see and resend failed deliveries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.events.__main__ import main
from backend.events.operations import Operations
from backend.queries.store import OwnerId, TaskStore
from generated.models import TaskCreate
from tests.conftest import SECRET, new_owner
from tests.events.conftest import Receiver, new_secret, relay_for

pytestmark = pytest.mark.anyio


async def test_failed_lists_and_redeliver_resends(
    store: TaskStore,
    events_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = new_secret()
    relay, name = relay_for(events_url, [secret], webhook_max_age_seconds=0.1)
    receiver = Receiver(secret, lambda _: httpx.Response(503))
    owner = OwnerId(new_owner())
    task = await store.create(owner, TaskCreate(title="undeliverable"))
    operations = Operations(store.database)
    since = datetime.now(UTC) - timedelta(hours=1)
    async with receiver.client() as client:
        for _ in range(200):
            await relay.tick(client)
            await relay.drain()
            if await operations.failed(since, name):
                break
            await asyncio.sleep(0.01)
    await relay.outbox.database.close()
    monkeypatch.setenv("DATABASE_URL", events_url)
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("MIGRATE_ON_START", "false")

    assert await asyncio.to_thread(main, ["failed", "--endpoint", name]) == 0
    listed = capsys.readouterr().out
    [event_id] = [line.split()[0] for line in listed.splitlines() if f"task {task.id} " in line]
    assert "task.created" in listed and "503" in listed and "1 failed deliveries" in listed

    assert (
        await asyncio.to_thread(main, ["redeliver", "--event", event_id, "--endpoint", name]) == 0
    )
    assert "1 deliveries pending again" in capsys.readouterr().out
    assert await operations.failed(since, name) == []

    assert await asyncio.to_thread(main, ["enable", name]) == 1
    assert f"{name} was not disabled" in capsys.readouterr().out
