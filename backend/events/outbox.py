"""The outbox's statements: claim due reminders, hand new events to the endpoints, lease
deliveries, record what each attempt got, expire, prune, and what an operator lists and
redelivers. Every claim skips rows another relay holds (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite has one writer at a time), so any number of relays share one outbox."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    true,
    union,
    update,
)

from backend.queries.statements import StatementCache
from backend.settings import WebhookEndpoint
from backend.storage.database import Database, Row
from backend.storage.models import EventDeliveryRecord, TaskEventRecord, WebhookEndpointRecord
from backend.storage.task_table import tasks

events = TaskEventRecord.__table__  # type: ignore[attr-defined]
deliveries = EventDeliveryRecord.__table__  # type: ignore[attr-defined]
endpoint_states = WebhookEndpointRecord.__table__  # type: ignore[attr-defined]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_ERROR_CHARS = 500
EVENT_COLUMNS = (
    events.c.event_id,
    events.c.type,
    events.c.user_id,
    events.c.task_id,
    events.c.sequence,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.task,
    # Not the body's: the delivery's span continues this trace (events/delivery_trace.py).
    events.c.trace_context,
)


@dataclass(frozen=True, slots=True)
class Leased:
    """A delivery a relay holds: an event, to one endpoint, at its how-manieth attempt."""

    token: str
    delivery_id: int
    endpoint: str
    attempts: int
    deadline: datetime
    event: Row


def _unclaimed_reminder(now: BindParameter[Any]) -> ColumnElement[bool]:
    return and_(
        tasks.c.remind_at.is_not(None),
        tasks.c.remind_at <= now,
        tasks.c.reminded_at.is_distinct_from(tasks.c.remind_at),
    )


def _work() -> ClauseElement:
    """Whether each step of a round has work: due reminders, undispatched events, deliveries
    due. A read, so that an idle relay takes no write lock (SQLite has one for all)."""
    now: BindParameter[Any] = bindparam("now")
    return select(
        exists().where(_unclaimed_reminder(now)).label("reminders"),
        exists().where(not_(events.c.dispatched)).label("events"),
        exists()
        .where(deliveries.c.state == PENDING, deliveries.c.next_attempt_at <= now)
        .label("deliveries"),
    )


def _claim_reminders() -> ClauseElement:
    """Mark due reminders claimed; the tasks table's trigger writes each one's reminder.due
    (none for a completed task: its moment just passes)."""
    now: BindParameter[Any] = bindparam("now")
    due = (
        select(tasks.c.id)
        .where(_unclaimed_reminder(now))
        .order_by(tasks.c.remind_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(tasks)
        .where(tasks.c.id.in_(due.scalar_subquery()), _unclaimed_reminder(now))
        .values(reminded_at=tasks.c.remind_at)
        .returning(tasks.c.id)
    )


def _claim_events() -> ClauseElement:
    undispatched = (
        select(events.c.id)
        .where(not_(events.c.dispatched))
        .order_by(events.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(events)
        .where(events.c.id.in_(undispatched.scalar_subquery()))
        .values(dispatched=true())
        .returning(events.c.id)
    )


def _fan_out(type_count: int) -> ClauseElement:
    """One endpoint's deliveries of the dispatched events between two ids, of its types, that
    it has none of yet (the range may hold events another relay dispatched: they have theirs,
    written in the transaction that dispatched them)."""
    already = exists().where(
        deliveries.c.task_event_id == events.c.id, deliveries.c.endpoint == bindparam("endpoint")
    )
    chosen = select(
        events.c.id,
        bindparam("endpoint"),
        literal(PENDING),
        bindparam("now", type_=deliveries.c.next_attempt_at.type),
        bindparam("deadline", type_=deliveries.c.deadline.type),
    ).where(
        events.c.id.between(bindparam("low"), bindparam("high")),
        events.c.dispatched,
        events.c.type.in_([bindparam(f"type_{i}") for i in range(type_count)]),
        not_(already),
    )
    return insert(deliveries).from_select(
        ["task_event_id", "endpoint", "state", "next_attempt_at", "deadline"], chosen
    )


def _lease(endpoint_count: int) -> ClauseElement:
    now: BindParameter[Any] = bindparam("now")
    disabled = select(endpoint_states.c.name).where(endpoint_states.c.disabled_at.is_not(None))
    due = (
        select(deliveries.c.id)
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < now),
            deliveries.c.endpoint.in_([bindparam(f"endpoint_{i}") for i in range(endpoint_count)]),
            deliveries.c.endpoint.not_in(disabled.scalar_subquery()),
        )
        .order_by(deliveries.c.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(deliveries)
        .where(deliveries.c.id.in_(due.scalar_subquery()))
        .values(
            leased_until=bindparam("until"),
            leased_by=bindparam("token"),
            attempts=deliveries.c.attempts + 1,
        )
    )


def _leased() -> ClauseElement:
    return (
        select(
            deliveries.c.id.label("delivery_id"),
            deliveries.c.endpoint,
            deliveries.c.attempts,
            deliveries.c.deadline,
            *EVENT_COLUMNS,
        )
        .join(events, events.c.id == deliveries.c.task_event_id)
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_at <= bindparam("now"),
            deliveries.c.leased_by == bindparam("token"),
        )
    )


def _held() -> ColumnElement[bool]:
    return and_(
        deliveries.c.id == bindparam("delivery_id"),
        deliveries.c.leased_by == bindparam("token"),
        deliveries.c.state == PENDING,
    )


def _delivered() -> ClauseElement:
    return (
        update(deliveries)
        .where(_held())
        .values(
            state=DELIVERED,
            delivered_at=bindparam("now"),
            last_status=bindparam("status"),
            last_error=null(),
            leased_until=null(),
            leased_by=null(),
        )
    )


def _retried() -> ClauseElement:
    """The next attempt at `next_at`; failed instead when that is past the deadline."""
    return (
        update(deliveries)
        .where(_held())
        .values(
            state=case(
                (deliveries.c.deadline < bindparam("next_at"), literal(FAILED)), else_=PENDING
            ),
            next_attempt_at=bindparam("next_at"),
            last_status=bindparam("status"),
            last_error=bindparam("error"),
            leased_until=null(),
            leased_by=null(),
        )
    )


def _failed() -> ClauseElement:
    return (
        update(deliveries)
        .where(_held())
        .values(
            state=FAILED,
            last_status=bindparam("status"),
            last_error=bindparam("error"),
            leased_until=null(),
            leased_by=null(),
        )
    )


DISABLE_ENDPOINT = text(
    "INSERT INTO webhook_endpoint (name, disabled_at, disabled_reason)"
    " VALUES (:name, :now, :reason) ON CONFLICT (name) DO UPDATE"
    " SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason"
).bindparams(bindparam("now", type_=endpoint_states.c.disabled_at.type))


def _expire() -> ClauseElement:
    now: BindParameter[Any] = bindparam("now")
    return (
        update(deliveries)
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.deadline < now,
            or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < now),
        )
        .values(
            state=FAILED,
            last_error=func.substr(
                literal("not delivered within WEBHOOK_MAX_AGE_SECONDS; last: ")
                + func.coalesce(deliveries.c.last_error, "no attempt"),
                1,
                MAX_ERROR_CHARS,
            ),
            leased_until=null(),
            leased_by=null(),
        )
        .returning(deliveries.c.id)
    )


def _prune() -> ClauseElement:
    pending = exists().where(
        deliveries.c.task_event_id == events.c.id, deliveries.c.state == PENDING
    )
    old = (
        select(events.c.id)
        .where(events.c.recorded_at < bindparam("cutoff"), events.c.dispatched, not_(pending))
        .limit(bindparam("limit"))
    )
    return delete(events).where(events.c.id.in_(old.scalar_subquery())).returning(events.c.id)


def _backlog() -> ClauseElement:
    """Events some endpoint still waits for: not yet dispatched, or with a pending delivery.
    Both halves read a partial index; an empty backlog costs two index probes."""
    undispatched = select(events.c.id, events.c.recorded_at).where(not_(events.c.dispatched))
    undelivered = (
        select(events.c.id, events.c.recorded_at)
        .join(deliveries, deliveries.c.task_event_id == events.c.id)
        .where(deliveries.c.state == PENDING)
    )
    waiting = union(undispatched, undelivered).subquery()
    # Labelled as the column it reads, so that SQLite's rows decode it as a moment.
    return select(
        func.count().label("events"), func.min(waiting.c.recorded_at).label("recorded_at")
    ).select_from(waiting)


class Outbox:
    """The outbox of one database, as the relay and the operator's commands use it."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._statement = StatementCache(database)

    async def work(self, now: datetime) -> Row:
        """`reminders`, `events`, `deliveries`: whether each has work now."""
        return (await self.database.fetch(self._statement(("work",), _work), {"now": now}))[0]

    async def backlog(self) -> Row:
        """`events` waiting for a delivery, and when the oldest was recorded (`recorded_at`,
        None when there is none)."""
        return (await self.database.fetch(self._statement(("backlog",), _backlog), {}))[0]

    async def claim_reminders(self, now: datetime, limit: int) -> int:
        """Claim up to `limit` due reminders; returns how many (their events are written)."""
        statement = self._statement(("claim reminders",), _claim_reminders)
        return len(await self.database.write(statement, {"now": now, "limit": limit}))

    async def dispatch(
        self, endpoints: tuple[WebhookEndpoint, ...], now: datetime, deadline: datetime, limit: int
    ) -> int:
        """Hand up to `limit` new events to the endpoints that take their types, in one
        transaction; returns how many events."""
        async with self.database.transaction() as transaction:
            claimed = await transaction.write(
                self._statement(("claim events",), _claim_events), {"limit": limit}
            )
            if not claimed:
                return 0
            ids = [row["id"] for row in claimed]
            for endpoint in endpoints:
                types = endpoint.events
                count = len(types)
                statement = self._statement(("fan out", count), partial(_fan_out, count))
                params: dict[str, Any] = {
                    "endpoint": endpoint.name,
                    "now": now,
                    "deadline": deadline,
                    "low": min(ids),
                    "high": max(ids),
                    **{f"type_{i}": name for i, name in enumerate(types)},
                }
                await transaction.write(statement, params)
            return len(claimed)

    async def lease(
        self, endpoints: tuple[str, ...], now: datetime, hold: timedelta, limit: int
    ) -> list[Leased]:
        """Hold up to `limit` due deliveries to these endpoints until `now + hold`."""
        if not endpoints or limit <= 0:
            return []
        token = secrets.token_hex(16)
        count = len(endpoints)
        params: dict[str, Any] = {
            "now": now,
            "until": now + hold,
            "token": token,
            "limit": limit,
            **{f"endpoint_{i}": name for i, name in enumerate(endpoints)},
        }
        await self.database.write(self._statement(("lease", count), partial(_lease, count)), params)
        rows = await self.database.fetch(
            self._statement(("leased",), _leased), {"now": now, "token": token}
        )
        return [
            Leased(
                token,
                row.pop("delivery_id"),
                row.pop("endpoint"),
                row.pop("attempts"),
                row.pop("deadline"),
                row,
            )
            for row in rows
        ]

    async def delivered(self, token: str, delivery_id: int, now: datetime, status: int) -> None:
        await self.database.write(
            self._statement(("delivered",), _delivered),
            {"token": token, "delivery_id": delivery_id, "now": now, "status": status},
        )

    async def retry(
        self, token: str, delivery_id: int, next_at: datetime, status: int | None, error: str
    ) -> None:
        await self.database.write(
            self._statement(("retried",), _retried),
            {
                "token": token,
                "delivery_id": delivery_id,
                "next_at": next_at,
                "status": status,
                "error": error[:MAX_ERROR_CHARS],
            },
        )

    async def fail(self, token: str, delivery_id: int, status: int | None, error: str) -> None:
        await self.database.write(
            self._statement(("failed",), _failed),
            {
                "token": token,
                "delivery_id": delivery_id,
                "status": status,
                "error": error[:MAX_ERROR_CHARS],
            },
        )

    async def disable_endpoint(self, name: str, now: datetime, reason: str) -> None:
        """A receiver answered 410 Gone: no more attempts to it until an operator enables it."""
        await self.database.write(
            self.database.compile(DISABLE_ENDPOINT), {"name": name, "now": now, "reason": reason}
        )

    async def expire(self, now: datetime) -> int:
        """Fail the deliveries still pending past their deadline (a disabled or removed
        endpoint's, or one whose relay stopped): listed, never dropped."""
        statement = self._statement(("expire",), _expire)
        return len(await self.database.write(statement, {"now": now}))

    async def prune(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` events recorded before `cutoff` with nothing pending (their
        deliveries go with them)."""
        statement = self._statement(("prune",), _prune)
        return len(await self.database.write(statement, {"cutoff": cutoff, "limit": limit}))
