"""What the database holds during and after a crash run, read on a connection of the run's
own: the work still pending in the outbox, the recorded events, the tasks' counters, and
the deliveries' states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, not_, or_, select

from backend.events.outbox import deliveries, events
from backend.settings import Settings
from backend.storage.database import Database, Row
from backend.storage.factory import connect
from backend.storage.task_table import tasks


def open_database(url: str, secret: str) -> Database:
    """The run's database, as the servers' settings name it (no relay of its own)."""
    settings = Settings(
        database_url=url,
        better_auth_secret=secret,
        migrate_on_start=False,
        webhook_relay=False,
        _env_file=None,
    )
    return connect(settings)


@dataclass(frozen=True, slots=True)
class Pending:
    """Work the relays have left: reminders come due but not claimed, events not handed to
    the endpoints, deliveries not yet made."""

    reminders: int
    events: int
    deliveries: int

    @property
    def none(self) -> bool:
        return self.reminders == self.events == self.deliveries == 0


def _counted(statement: Select[Any]) -> Select[Any]:
    return statement.with_only_columns(func.count().label("count"))


async def _count(database: Database, statement: Select[Any], params: dict[str, Any]) -> int:
    rows = await database.fetch(database.compile(_counted(statement)), params)
    return int(rows[0]["count"])


async def pending(database: Database) -> Pending:
    """The outbox's pending work now."""
    due = select(tasks.c.id).where(
        tasks.c.remind_at.is_not(None),
        tasks.c.remind_at <= bindparam("now"),
        or_(tasks.c.reminded_at.is_(None), tasks.c.reminded_at != tasks.c.remind_at),
    )
    undispatched = select(events.c.id).where(not_(events.c.dispatched))
    waiting = select(deliveries.c.id).where(deliveries.c.state == "pending")
    return Pending(
        await _count(database, due, {"now": datetime.now(UTC)}),
        await _count(database, undispatched, {}),
        await _count(database, waiting, {}),
    )


async def recorded_events(database: Database) -> list[Row]:
    """Every event in the outbox, in the order recorded."""
    statement = select(
        events.c.event_id,
        events.c.type,
        events.c.user_id,
        events.c.task_id,
        events.c.sequence,
        events.c.occurred_at,
        events.c.recorded_at,
    ).order_by(events.c.id)
    return await database.fetch(database.compile(statement), {})


async def task_counters(database: Database) -> list[Row]:
    """Every task still stored: its owner, event counter and reminder moment."""
    statement = select(
        tasks.c.id,
        tasks.c.user_id,
        tasks.c.event_sequence,
        tasks.c.completed,
        tasks.c.remind_at,
        tasks.c.reminded_at,
    ).order_by(tasks.c.id)
    return await database.fetch(database.compile(statement), {})


async def delivery_states(database: Database) -> dict[str, tuple[int, int]]:
    """State -> (deliveries, attempts recorded), over all endpoints."""
    statement = select(
        deliveries.c.state,
        func.count().label("count"),
        func.sum(deliveries.c.attempts).label("attempts"),
    ).group_by(deliveries.c.state)
    rows = await database.fetch(database.compile(statement), {})
    return {row["state"]: (int(row["count"]), int(row["attempts"] or 0)) for row in rows}
