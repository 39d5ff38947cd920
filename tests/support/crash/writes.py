"""The client's side of a crash run: tasks with reminders seeded through the API, then a paced
stream of writes (create, update, complete, un-complete, delete) against servers that die,
and the fate of every write as the client saw it.

A write is `acknowledged` (2xx: it committed), `rejected` (4xx: it changed nothing),
`unanswered` (the connection broke, or a 5xx: it may have committed, or not) or `not sent`
(every server refused the connection for the whole retry window: it changed nothing). A
refused connection is tried on the next server at once, so with two processes a write
rarely waits for a restart.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from tests.conftest import token_for

ACKNOWLEDGED: Final = "acknowledged"
REJECTED: Final = "rejected"
UNANSWERED: Final = "unanswered"
NOT_SENT: Final = "not sent"
# Operation -> weight in the stream.
OPERATIONS: Final = {"create": 3, "update": 4, "complete": 3, "uncomplete": 1, "delete": 2}
# How long a write is retried while every server refuses the connection (restarts take a
# few seconds on a loaded machine), and how often.
REFUSED_WINDOW_SECONDS: Final = 60.0
REFUSED_POLL_SECONDS: Final = 0.1
CLIENT_TIMEOUT: Final = httpx.Timeout(30.0)
# Dropped by the client before uvicorn's keep-alive timeout closes it (tests/support/load.py).
KEEPALIVE_EXPIRY_SECONDS: Final = 1.0
PRIORITIES: Final = ("low", "medium", "high")
# A surge of writes spans this many seconds either side of its moment.
SURGE_SECONDS: Final = 0.5


@dataclass(frozen=True, slots=True)
class Reminder:
    """A seeded task whose reminder comes due during the run."""

    owner: str
    task_id: int
    remind_at: datetime


@dataclass(frozen=True, slots=True)
class Write:
    """One write and its fate: `task` is the body of an acknowledged create, update or
    completion (the task as it committed)."""

    owner: str
    operation: str
    task_id: int | None
    sent_at: float
    answered_at: float
    outcome: str
    status: int | None
    task: dict[str, Any] | None


@dataclass
class Ledger:
    """Every write of the run, and anything the client did not expect."""

    writes: list[Write] = field(default_factory=list)
    surprises: list[Write] = field(default_factory=list)
    """Writes answered as they should not have been (a 404 for a task the owner has)."""


class Client:
    """Writes to whichever server answers, in a random order per write."""

    def __init__(self, http: httpx.AsyncClient, base_urls: Sequence[str], seed: int) -> None:
        self.http = http
        self.base_urls = list(base_urls)
        self.chooser = random.Random(seed)

    async def send(
        self, owner: str, operation: str, task_id: int | None, method: str, path: str, body: Any
    ) -> Write:
        """Send one write; a refused connection is tried on the next server, and on all of
        them again (polled, bounded) while every one is restarting."""
        sent_at = time.time()
        order = self.chooser.sample(self.base_urls, len(self.base_urls))
        while True:
            for base_url in order:
                try:
                    response = await self.http.request(
                        method, base_url + path, json=body, headers=token_for(owner)
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                    continue  # never reached a server: nothing changed
                except httpx.TransportError:
                    return Write(
                        owner, operation, task_id, sent_at, time.time(), UNANSWERED, None, None
                    )
                return _written(owner, operation, task_id, sent_at, response)
            if time.time() - sent_at > REFUSED_WINDOW_SECONDS:
                return Write(owner, operation, task_id, sent_at, time.time(), NOT_SENT, None, None)
            await asyncio.sleep(REFUSED_POLL_SECONDS)  # a poll interval, bounded by the window


def _written(
    owner: str, operation: str, task_id: int | None, sent_at: float, response: httpx.Response
) -> Write:
    status = response.status_code
    if status >= 500:
        outcome = UNANSWERED
    elif status >= 400:
        outcome = REJECTED
    else:
        outcome = ACKNOWLEDGED
    task = response.json() if outcome == ACKNOWLEDGED and status != 204 else None
    return Write(owner, operation, task_id, sent_at, time.time(), outcome, status, task)


def http_client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    return httpx.AsyncClient(limits=limits, timeout=CLIENT_TIMEOUT)


def reminder_body(index: int, remind_at: datetime, chooser: random.Random) -> dict[str, Any]:
    """A task due some minutes after `remind_at` (UTC), reminded that many minutes before;
    one in ten recurs daily (its completion creates the next occurrence)."""
    minutes = chooser.randint(0, 90)
    due = remind_at + timedelta(minutes=minutes)
    body: dict[str, Any] = {
        "title": f"reminder {index}",
        "priority": chooser.choice(PRIORITIES),
        "due_date": due.date().isoformat(),
        "due_time": due.strftime("%H:%M"),
        "time_zone": "UTC",
        "remind_before_minutes": minutes,
    }
    if index % 10 == 0:
        body["recurrence"] = "FREQ=DAILY"
    return body


async def seed_reminders(
    client: Client,
    owners: Sequence[str],
    moments: Sequence[datetime],
    count: int,
    concurrency: int,
    ledger: Ledger,
) -> list[Reminder]:
    """`count` tasks of the owners in turn, their reminders spread over the moments."""
    chooser = random.Random(client.chooser.random())
    bodies = [
        (owners[index % len(owners)], reminder_body(index, moments[index % len(moments)], chooser))
        for index in range(count)
    ]
    reminders: list[Reminder] = []

    async def seed(part: int) -> None:
        for owner, body in bodies[part::concurrency]:
            write = await client.send(owner, "create", None, "POST", f"/api/{owner}/tasks", body)
            ledger.writes.append(write)
            if write.task is None:
                ledger.surprises.append(write)
                continue
            remind_at = datetime.fromisoformat(write.task["remind_at"])
            reminders.append(Reminder(owner, write.task["id"], remind_at))

    await asyncio.gather(*(seed(part) for part in range(concurrency)))
    return reminders


@dataclass
class Owned:
    """What one owner's stream may write to: its live tasks; those a write may have deleted
    (a 404 there is no surprise); and those it deleted (a completion's
    `next_occurrence_id` still names its next occurrence once that is deleted)."""

    live: set[int]
    maybe_deleted: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)

    def add(self, task_id: int) -> None:
        if task_id not in self.deleted:
            self.live.add(task_id)


class WriteStream:
    """Writes of several owners side by side, each owner's in order at paced moments."""

    def __init__(self, client: Client, ledger: Ledger, seed: int) -> None:
        self.client = client
        self.ledger = ledger
        self.seed = seed

    async def run(
        self,
        owned: dict[str, Owned],
        writes: int,
        start: float,
        end: float,
        surges: Sequence[float] = (),
    ) -> None:
        """`writes` writes in all, between `start` and `end` (epoch seconds): half at random
        moments over the window, half surging within a second around the `surges` (the
        moments the servers are killed: a stream of a few writes a second is rarely caught
        in flight by a kill, a surge of several owners' writes is)."""
        chooser = random.Random(self.seed)
        owners = sorted(owned)
        moments: dict[str, list[float]] = {owner: [] for owner in owners}
        for index in range(writes):
            if surges and index % 2:
                at = chooser.choice(surges) + chooser.uniform(-SURGE_SECONDS, SURGE_SECONDS)
            else:
                at = chooser.uniform(start, end)
            moments[chooser.choice(owners)].append(min(max(at, start), end))
        await asyncio.gather(
            *(
                self._owner(owner, owned[owner], sorted(moments[owner]), index)
                for index, owner in enumerate(owners)
            )
        )

    async def _owner(self, owner: str, owned: Owned, moments: list[float], index: int) -> None:
        chooser = random.Random(f"{self.seed}:{index}")
        names, weights = list(OPERATIONS), list(OPERATIONS.values())
        for step, moment in enumerate(moments):
            await asyncio.sleep(max(0.0, moment - time.time()))  # pacing, not synchronisation
            operation = chooser.choices(names, weights)[0] if owned.live else "create"
            task_id = chooser.choice(sorted(owned.live)) if operation != "create" else None
            write = await self._write(owner, operation, task_id, step, chooser)
            self.ledger.writes.append(write)
            self._learn(owned, write)

    async def _write(
        self, owner: str, operation: str, task_id: int | None, step: int, chooser: random.Random
    ) -> Write:
        base = f"/api/{owner}/tasks"
        path = f"{base}/{task_id}"
        send = self.client.send
        if operation == "create":
            body: dict[str, Any] = {"title": f"written {step}", "priority": "low"}
            if chooser.random() < 0.2:
                tomorrow = datetime.now(UTC).date() + timedelta(days=1)
                body |= {"due_date": tomorrow.isoformat(), "recurrence": "FREQ=DAILY"}
            return await send(owner, operation, None, "POST", base, body)
        if operation == "update":
            body = {"title": f"updated {step}", "priority": chooser.choice(PRIORITIES)}
            return await send(owner, operation, task_id, "PUT", path, body)
        if operation in ("complete", "uncomplete"):
            body = {"completed": operation == "complete"}
            return await send(owner, operation, task_id, "PATCH", f"{path}/complete", body)
        return await send(owner, operation, task_id, "DELETE", path, None)

    def _learn(self, owned: Owned, write: Write) -> None:
        if write.outcome == ACKNOWLEDGED:
            if write.operation == "delete" and write.task_id is not None:
                owned.live.discard(write.task_id)
                owned.deleted.add(write.task_id)
            elif write.task is not None:
                owned.add(write.task["id"])
                following = write.task.get("next_occurrence_id")
                if following is not None:
                    owned.add(following)
        elif write.outcome == UNANSWERED and write.operation == "delete":
            owned.maybe_deleted.add(write.task_id or 0)
        elif write.outcome == REJECTED:
            if write.status == 404 and write.task_id in owned.maybe_deleted:
                owned.live.discard(write.task_id)
                owned.deleted.add(write.task_id)
            else:
                self.ledger.surprises.append(write)
