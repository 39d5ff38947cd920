"""One crash run, at a size: servers that die, reminders coming due, a stream of writes, a
receiver that fails some attempts; then the outbox drained and every promise checked.

The timeline: the servers start; the reminders are seeded through the API, due on whole
minutes (a reminder's moment is a due time, HH:MM, less whole minutes) that begin at least
`lead_seconds` after the seeding's planned end; the writes run, paced, from the seeding's end
to `tail_seconds` after the last moment, while each server process is killed `kills` times
(once in the first moment's burst, the other times anywhere in the writes' window) and
restarted on its port; then the relays run until the outbox has nothing pending (polled, to
a deadline), and the checks read what arrived, what the client wrote and what the database
kept. The test (tests/events/test_crash.py) and the benchmark (bench/crash.py) differ in
size only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx

from backend.storage.database import Database
from backend.storage.schema import upgrade_to_head
from tests.conftest import SECRET, new_owner
from tests.support.crash import outbox_state
from tests.support.crash.checks import Observed, verdict
from tests.support.crash.figures import Timeline, figure_lines
from tests.support.crash.outbox_state import Pending
from tests.support.crash.servers import CrashingServer, ServerSpec, crashing_servers
from tests.support.crash.writes import (
    Client,
    Ledger,
    Owned,
    Reminder,
    WriteStream,
    http_client,
    seed_reminders,
)
from tests.support.load import listed_tasks
from tests.support.webhook_receiver import Faults, WebhookReceiver, webhook_receiver

# Short waits, so that a run of a minute or two sees many retries and lease expiries.
CRASH_WEBHOOKS: Final = {
    "WEBHOOK_POLL_SECONDS": "0.2",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
}
# The acceptance's receiver: 30 % of attempts fail (500, an answer held past the 1 s
# timeout above, 429 with Retry-After: 1).
CRASH_FAULTS: Final = Faults(fraction=0.3, seed=7, hold_seconds=1.5, retry_after=1)
SEEDING_CONCURRENCY: Final = 16
# One kill of each process falls within this many seconds after the first moment.
BURST_SECONDS: Final = 3.0
SETTLE_TIMEOUT_SECONDS: Final = 180.0
DRAIN_POLL_SECONDS: Final = 0.2


@dataclass(frozen=True)
class Size:
    """How big a run is."""

    reminders: int
    moments: int
    """Whole minutes the reminders fall on, one after another."""
    owners: int
    writes: int
    kills: int
    """Per server process."""
    touched: float
    """The share of each owner's reminder tasks its writes may touch; the others are left
    alone, to be reminded for sure."""
    lead_seconds: float
    tail_seconds: float
    seed_rate: float
    """Tasks a second the seeding is expected to create: it places the first moment."""
    drain_timeout_seconds: float
    seed: int = 1


@dataclass(frozen=True)
class Layout:
    """Where a run happens: the database, and server processes of how many workers."""

    database_url: str
    processes: int
    workers: int


@dataclass(frozen=True)
class CrashRun:
    """What a run found: its problems ([] when it kept every promise), and its figures."""

    problems: list[str]
    figures: list[str]


def first_moment(after: float) -> datetime:
    """The first whole minute (UTC) at or after `after` (epoch seconds)."""
    return datetime.fromtimestamp(math.ceil(after / 60) * 60, UTC)


def kill_moments(
    chooser: random.Random, start: float, burst: float, end: float, kills: int
) -> list[float]:
    """`kills` moments: one just after `burst`, the others anywhere from start to end."""
    if kills <= 0:
        return []
    return [burst + chooser.uniform(0, BURST_SECONDS)] + [
        chooser.uniform(start + 1, end) for _ in range(kills - 1)
    ]


def webhook_secret(seed: int) -> str:
    """A Standard Webhooks secret of 32 seeded bytes."""
    return "whsec_" + base64.b64encode(random.Random(seed).randbytes(32)).decode()


def crash_run(
    layout: Layout,
    size: Size,
    folder: Path,
    *,
    faults: Faults = CRASH_FAULTS,
    webhooks: dict[str, str] = CRASH_WEBHOOKS,
    title: str = "crash run",
) -> CrashRun:
    """Run it at `size` in `layout`; the servers' logs go to `folder`."""
    upgrade_to_head(layout.database_url)
    secret = webhook_secret(size.seed)
    with webhook_receiver(secret, faults) as receiver:
        endpoints = [{"name": "crash", "url": receiver.url, "secrets": [secret]}]
        env = {**webhooks, "WEBHOOK_ENDPOINTS": json.dumps(endpoints)}
        spec = ServerSpec(layout.database_url, SECRET, layout.workers, env)
        with crashing_servers(spec, layout.processes, folder) as servers:
            observed, timeline = asyncio.run(_drive(layout, size, servers, receiver))
    return CrashRun(verdict(observed), figure_lines(title, observed, timeline))


async def _drive(
    layout: Layout, size: Size, servers: list[CrashingServer], receiver: WebhookReceiver
) -> tuple[Observed, Timeline]:
    chooser = random.Random(size.seed)
    started = time.time()
    owners = [new_owner() for _ in range(size.owners)]
    first = first_moment(started + size.reminders / size.seed_rate + size.lead_seconds)
    moments = [datetime.fromtimestamp(first.timestamp() + 60 * i, UTC) for i in range(size.moments)]
    last = moments[-1].timestamp()
    ledger = Ledger()
    base_urls = [server.base_url for server in servers]
    async with http_client(SEEDING_CONCURRENCY + size.owners) as http:
        client = Client(http, base_urls, size.seed)
        reminders = await seed_reminders(
            client, owners, moments, size.reminders, SEEDING_CONCURRENCY, ledger
        )
        seeded = time.time()
        await _write_while_killing(
            WriteStream(client, ledger, size.seed),
            servers,
            _owned(owners, reminders, size.touched, chooser),
            size,
            chooser,
            (seeded, first.timestamp(), last + size.tail_seconds),
        )
    writes_ended = time.time()
    for server in servers:
        if not await asyncio.to_thread(server.settled.wait, SETTLE_TIMEOUT_SECONDS):
            raise TimeoutError(f"{server.name} was not serving again in time")
    settled = time.time()
    database = outbox_state.open_database(layout.database_url, SECRET)
    try:
        left = await _drained(database, last, max(settled, last) + size.drain_timeout_seconds)
        drained = time.time()
        observed = Observed(
            reminders=reminders,
            writes=ledger.writes,
            surprises=ledger.surprises,
            deliveries=receiver.deliveries(),
            attempts=receiver.attempts(),
            events=await outbox_state.recorded_events(database),
            tasks=await outbox_state.task_counters(database),
            listed=await _listed(base_urls[0], owners),
            pending=left,
            delivery_states=await outbox_state.delivery_states(database),
        )
    finally:
        await database.close()
    timeline = Timeline(
        started=started,
        seeded=seeded,
        first_moment=first.timestamp(),
        last_moment=last,
        writes_ended=writes_ended,
        settled=settled,
        drained=drained,
        kills=[len(server.kills) for server in servers],
        restart_seconds=[
            kill.restart_seconds
            for server in servers
            for kill in server.kills
            if kill.restart_seconds is not None
        ],
    )
    return observed, timeline


async def _write_while_killing(
    stream: WriteStream,
    servers: list[CrashingServer],
    owned: dict[str, Owned],
    size: Size,
    chooser: random.Random,
    window: tuple[float, float, float],
) -> None:
    """Give each server its kill moments, then write from the window's start to its end,
    surging at the kills; `window` is (start, the first reminders' moment, end)."""
    start, burst, end = window
    kills = [kill_moments(chooser, start, burst, end, size.kills) for _ in servers]
    for server, moments in zip(servers, kills, strict=True):
        server.kill_at(moments)
    surges = sorted(moment for moments in kills for moment in moments)
    await stream.run(owned, size.writes, start, end, surges)


def _owned(
    owners: list[str], reminders: list[Reminder], touched: float, chooser: random.Random
) -> dict[str, Owned]:
    """Each owner's writable tasks at the start: a share of its reminder tasks."""
    owned = {owner: Owned(set()) for owner in owners}
    for reminder in reminders:
        if chooser.random() < touched:
            owned[reminder.owner].live.add(reminder.task_id)
    return owned


async def _drained(database: Database, last_moment: float, deadline: float) -> Pending:
    """Poll the outbox until the last reminder's moment has passed and nothing is pending,
    or the deadline passes; what is left."""
    while True:
        checked_at = time.time()
        left = await outbox_state.pending(database)
        if (left.none and checked_at > last_moment) or checked_at > deadline:
            return left
        await asyncio.sleep(DRAIN_POLL_SECONDS)  # a poll interval, bounded by the deadline


async def _listed(base_url: str, owners: list[str]) -> dict[int, dict[str, Any]]:
    """Every task of the run's owners, as the API lists them."""
    listed: dict[int, dict[str, Any]] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for owner in owners:
            listed.update(await listed_tasks(client, owner))
    return listed
