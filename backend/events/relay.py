"""The relay: claims due reminders, dispatches new events to the endpoints, and delivers them.

It runs as a task inside each server process by default (WEBHOOK_RELAY), or on its own
(`python -m backend.events relay`). Relays share the outbox through its claims, so any number
may run at once. Deliveries are off the request path and bounded: at most
WEBHOOK_CONCURRENCY in flight per relay, each holding one event's body, so a slow or dead
receiver costs waiting connections, never the API's time or the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx
from opentelemetry.trace import Tracer

from backend.events.delivery import Backoff, Outcome, attempt
from backend.events.delivery_trace import attempt_trace
from backend.events.outbox import Leased, Outbox
from backend.events.payloads import body_of
from backend.settings import Settings, WebhookEndpoint
from backend.storage.database import Database, DatabaseUnavailable
from backend.telemetry.metrics import Metrics

logger = logging.getLogger(__name__)

# Rows one claim takes: reminders, new events.
BATCH: Final = 200
HOUSEKEEPING_SECONDS: Final = 60.0
PRUNE_BATCH: Final = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class Relay:
    """One relay over one database, for the endpoints of the settings; with a tracer, each
    attempt to deliver an event a traced write caused is a span of that write's trace."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        metrics: Metrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.outbox = Outbox(database)
        self.settings = settings
        self.metrics = metrics
        self.tracer = tracer
        self.endpoints: dict[str, WebhookEndpoint] = {
            endpoint.name: endpoint for endpoint in settings.webhook_endpoints
        }
        self.backoff = Backoff(
            settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds
        )
        # A leased delivery is held for its attempt and the recording of its outcome.
        self.hold = timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._housekept = 0.0
        # Set when deliveries end while more were due than there were free slots: the next
        # round need not wait for the poll (a healthy receiver answers in milliseconds).
        self._slot_freed = asyncio.Event()
        self._more_due = False

    async def run(self, stop: asyncio.Event, client: httpx.AsyncClient | None = None) -> None:
        """Work until `stop` is set; then stop at once (an attempt cut short is made again
        by whichever relay finds its lease expired)."""
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(self._client())
            try:
                while not stop.is_set():
                    self._slot_freed.clear()
                    busy = await self._tick_logged(client)
                    if not busy:
                        await self._pause(stop)
            finally:
                for task in self._in_flight:
                    task.cancel()
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until the poll interval passes, `stop` is set, or a slot frees with work waiting."""
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._slot_freed.wait())}
        _, pending = await asyncio.wait(
            waits, timeout=self.settings.webhook_poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for wait in pending:
            wait.cancel()

    def _client(self) -> httpx.AsyncClient:
        concurrency = self.settings.webhook_concurrency
        return httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    async def _tick_logged(self, client: httpx.AsyncClient) -> bool:
        try:
            return await self.tick(client)
        except DatabaseUnavailable as error:
            logger.warning("event relay: database unavailable (%s); trying again", error)
        except Exception:
            logger.exception("event relay: a round failed; trying again")
        return False

    async def tick(self, client: httpx.AsyncClient) -> bool:
        """One round; True when there may be more work right away. An idle round is one read."""
        now = _now()
        work = await self.outbox.work(now)
        claimed = dispatched = 0
        if work["reminders"]:
            claimed = await self.outbox.claim_reminders(now, BATCH)
        if work["events"] or claimed:
            endpoints = tuple(self.endpoints.values())
            deadline = now + timedelta(seconds=self.settings.webhook_max_age_seconds)
            dispatched = await self.outbox.dispatch(endpoints, now, deadline, BATCH)
        free = self.settings.webhook_concurrency - len(self._in_flight)
        leased: list[Leased] = []
        if work["deliveries"] or dispatched:
            leased = await self.outbox.lease(tuple(self.endpoints), now, self.hold, free)
        self._more_due = free <= 0 or len(leased) == free
        for delivery in leased:
            task = asyncio.create_task(self._deliver(client, delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._ended)
        if time.monotonic() - self._housekept > HOUSEKEEPING_SECONDS:
            await self.housekeeping(now)
        return claimed == BATCH or dispatched == BATCH or (free > 0 and len(leased) == free)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        # Half the slots free: leased together, in one statement rather than one each.
        if self._more_due and len(self._in_flight) <= self.settings.webhook_concurrency // 2:
            self._slot_freed.set()

    async def housekeeping(self, now: datetime) -> None:
        """Fail what is past its deadline; delete what is past retention."""
        self._housekept = time.monotonic()
        expired = await self.outbox.expire(now)
        if expired:
            logger.warning(
                "event relay: %d deliveries failed past WEBHOOK_MAX_AGE_SECONDS", expired
            )
        cutoff = now - timedelta(days=self.settings.webhook_retention_days)
        while await self.outbox.prune(cutoff, PRUNE_BATCH) == PRUNE_BATCH:
            pass

    async def drain(self) -> None:
        """Wait for the deliveries in flight (tests and the one-shot command)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _deliver(self, client: httpx.AsyncClient, leased: Leased) -> None:
        endpoint = self.endpoints[leased.endpoint]
        try:
            body = body_of(leased.event)
        except ValueError as error:  # a row no model accepts: listed as failed, never looped
            await self.outbox.fail(leased.token, leased.delivery_id, None, f"not sendable: {error}")
            self._count("failed")
            logger.error("event %s: not sendable: %s", leased.event["event_id"], error)
            return
        with attempt_trace(self.tracer, leased) as traced:
            outcome = await attempt(
                client, endpoint, leased.event["event_id"], body, traced.headers
            )
            traced.got(outcome)
        try:
            await self._record(leased, outcome)
        except DatabaseUnavailable as error:
            # The lease runs out and the event is sent again, with the same webhook-id.
            logger.warning("event %s: outcome not recorded (%s)", leased.event["event_id"], error)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.delivery_attempts.labels(outcome).inc()

    async def _record(self, leased: Leased, outcome: Outcome) -> None:
        now = _now()
        if outcome.verdict == "delivered":
            await self.outbox.delivered(leased.token, leased.delivery_id, now, outcome.status or 0)
            self._count("delivered")
            if self.metrics is not None and leased.event["type"] == "reminder.due":
                late = (now - leased.event["occurred_at"]).total_seconds()
                self.metrics.reminder_lateness.observe(max(0.0, late))
            return
        if outcome.verdict == "gone":
            await self.outbox.fail(leased.token, leased.delivery_id, outcome.status, outcome.error)
            self._count("gone")
            await self.outbox.disable_endpoint(leased.endpoint, now, outcome.error)
            logger.error("webhook endpoint %s disabled: %s", leased.endpoint, outcome.error)
            return
        wait = self.backoff.delay(leased.attempts, outcome.retry_after)
        next_at = now + timedelta(seconds=wait)
        await self.outbox.retry(
            leased.token, leased.delivery_id, next_at, outcome.status, outcome.error
        )
        self._count("failed" if next_at > leased.deadline else "retried")
        if next_at > leased.deadline:
            logger.error(
                "event %s to %s failed after %d attempts: %s",
                leased.event["event_id"],
                leased.endpoint,
                leased.attempts,
                outcome.error,
            )


@contextlib.asynccontextmanager
async def running(
    database: Database,
    settings: Settings,
    metrics: Metrics | None = None,
    tracer: Tracer | None = None,
) -> AsyncIterator[Relay | None]:
    """The server's own relay while the block runs (none when WEBHOOK_RELAY is off)."""
    if not settings.webhook_relay:
        yield None
        return
    relay = Relay(database, settings, metrics, tracer)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="event relay")
    try:
        yield relay
    finally:
        stop.set()
        await task
