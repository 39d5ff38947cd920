"""What an operator does with the outbox: list failed deliveries, send events again, enable
an endpoint a receiver disabled. `python -m backend.events` is the command over these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ClauseElement, bindparam, delete, null, select, true, update

from backend.events.outbox import FAILED, PENDING, deliveries, endpoint_states, events
from backend.storage.database import Database


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A delivery that failed: which event, to which endpoint, after what."""

    event_id: str
    type: str
    user_id: str
    task_id: int
    endpoint: str
    attempts: int
    last_status: int | None
    last_error: str | None
    recorded_at: datetime


def _failed(endpoint: str | None) -> ClauseElement:
    query = (
        select(
            events.c.event_id,
            events.c.type,
            events.c.user_id,
            events.c.task_id,
            deliveries.c.endpoint,
            deliveries.c.attempts,
            deliveries.c.last_status,
            deliveries.c.last_error,
            events.c.recorded_at,
        )
        .join(events, events.c.id == deliveries.c.task_event_id)
        .where(deliveries.c.state == FAILED, events.c.recorded_at >= bindparam("since"))
        .order_by(events.c.id)
        .limit(bindparam("limit"))
    )
    if endpoint is not None:
        query = query.where(deliveries.c.endpoint == bindparam("endpoint"))
    return query


def _redeliver(endpoint: str | None, event_id: str | None) -> ClauseElement:
    """Pending again, now, with a new deadline: the failed deliveries (all, one endpoint's,
    or one event's), or with an event id, its deliveries whatever their state."""
    statement = update(deliveries).values(
        state=PENDING,
        next_attempt_at=bindparam("now"),
        deadline=bindparam("deadline"),
        attempts=0,
        leased_until=null(),
        leased_by=null(),
    )
    if event_id is None:
        chosen = select(events.c.id).where(events.c.recorded_at >= bindparam("since"))
        statement = statement.where(deliveries.c.state == FAILED)
    else:
        chosen = select(events.c.id).where(events.c.event_id == bindparam("event_id"))
    statement = statement.where(deliveries.c.task_event_id.in_(chosen.scalar_subquery()))
    if endpoint is not None:
        statement = statement.where(deliveries.c.endpoint == bindparam("endpoint"))
    return statement.returning(deliveries.c.id)


class Operations:
    """The operator's view of one database's outbox."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def failed(
        self, since: datetime, endpoint: str | None = None, limit: int = 100
    ) -> list[FailedDelivery]:
        params: dict[str, Any] = {"since": since, "limit": limit}
        if endpoint is not None:
            params["endpoint"] = endpoint
        rows = await self.database.fetch(self.database.compile(_failed(endpoint)), params)
        return [FailedDelivery(**row) for row in rows]

    async def redeliver(
        self,
        now: datetime,
        max_age: timedelta,
        *,
        since: datetime,
        endpoint: str | None = None,
        event_id: str | None = None,
    ) -> int:
        """Make deliveries pending again, the failed ones of events recorded since `since` (or
        with `event_id`, that event's); returns how many. The relay sends them."""
        params: dict[str, Any] = {"now": now, "deadline": now + max_age}
        if event_id is None:
            params["since"] = (
                since if since is not None else datetime.min.replace(tzinfo=now.tzinfo)
            )
        else:
            params["event_id"] = event_id
        if endpoint is not None:
            params["endpoint"] = endpoint
        statement = self.database.compile(_redeliver(endpoint, event_id))
        return len(await self.database.write(statement, params))

    async def enable(self, endpoint: str) -> bool:
        """Let the relay send to an endpoint again; False when it was not disabled."""
        statement = self.database.compile(
            delete(endpoint_states)
            .where(endpoint_states.c.name == bindparam("name"))
            .returning(endpoint_states.c.name)
        )
        return bool(await self.database.write(statement, {"name": endpoint}))

    async def disabled(self) -> list[tuple[str, datetime, str | None]]:
        """The endpoints a receiver disabled (410), when, and why."""
        statement = self.database.compile(
            select(
                endpoint_states.c.name,
                endpoint_states.c.disabled_at,
                endpoint_states.c.disabled_reason,
            ).where(endpoint_states.c.disabled_at.is_not(None), true())
        )
        rows = await self.database.fetch(statement, {})
        return [(row["name"], row["disabled_at"], row["disabled_reason"]) for row in rows]
