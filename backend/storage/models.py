"""SQLModel tables: the storage contract of specs/database/schema.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite has no time zones, so it stores UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store only writes timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Ids are 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and must be
# spelled INTEGER to be the rowid alias that autoincrements.
TaskId = BigInteger().with_variant(Integer(), "sqlite")
# Titles sort by code point on both databases ("C" collation = SQLite's BINARY on UTF-8).
TitleType = String(200).with_variant(String(200, collation="C"), "postgresql")
# A task's tags, sorted: an array on PostgreSQL, a JSON array (text) on SQLite.
TagsType = ARRAY(String(32)).with_variant(JSON(), "sqlite")
# Priority ranks: descending order is high first, so the priority sort is one index range
# read backwards, like the newest-first sort.
PRIORITY_RANKS: Final = {"high": 3, "medium": 2, "low": 1}
# A W3C traceparent of version 00: `00-<32 hex>-<16 hex>-<2 hex>`.
TRACE_CONTEXT_CHARS: Final = 55

# The search indexes differ by database: a pg_trgm GIN index on PostgreSQL, an FTS5 trigram
# table (and its shadow tables) on SQLite. The migrations create them; they are not tables
# of the models, so comparisons of the models with a database leave them out.
SEARCH_INDEX = "ix_tasks_search"
# The rows of ix_tasks_owner_remind_at: a reminder, and not completed.
REMINDER_PENDING = text("remind_at IS NOT NULL AND NOT completed")
SEARCH_TABLE = "task_search"
# The rows of ix_tasks_reminder_due: a reminder whose moment the scheduler has not claimed.
REMINDER_UNCLAIMED: Final = {
    "postgresql": text("remind_at IS NOT NULL AND reminded_at IS DISTINCT FROM remind_at"),
    "sqlite": text("remind_at IS NOT NULL AND reminded_at IS NOT remind_at"),
}


def is_search_index(name: str | None) -> bool:
    """Whether a reflected table or index is the per-database search index."""
    return name is not None and (name == SEARCH_INDEX or name.startswith(SEARCH_TABLE))


class TaskRecord(SQLModel, table=True):
    """One row of `tasks`. The API shape is generated.models.Task; this is the storage."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_created", "user_id", "created_at", "id"),
        Index("ix_tasks_owner_title", "user_id", "title", "id"),
        Index("ix_tasks_owner_due_date", "user_id", "due_date", "id"),
        Index("ix_tasks_owner_priority", "user_id", "priority", "created_at", "id"),
        # Only the tasks still to be reminded: a notifier's window is one range of it.
        Index(
            "ix_tasks_owner_remind_at",
            "user_id",
            "remind_at",
            "id",
            postgresql_where=REMINDER_PENDING,
            sqlite_where=REMINDER_PENDING,
        ),
        # Only the reminders not yet claimed by the scheduler (backend/events/reminders.py).
        Index(
            "ix_tasks_reminder_due",
            "remind_at",
            postgresql_where=REMINDER_UNCLAIMED["postgresql"],
            sqlite_where=REMINDER_UNCLAIMED["sqlite"],
        ),
        CheckConstraint("priority IN (1, 2, 3)", name="ck_tasks_priority"),
        # Never reuse the id of a deleted task (PostgreSQL's identity never does either).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=Column(TaskId, primary_key=True))
    user_id: str = Field(sa_column=Column(String(128), nullable=False))
    title: str = Field(sa_column=Column(TitleType, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    priority: int = Field(
        default=2, sa_column=Column(SmallInteger, nullable=False, server_default=text("2"))
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(TagsType, nullable=False))
    # The row version behind the task's ETag: every write that moves updated_at bumps it.
    version: int = Field(
        default=1, sa_column=Column(BigInteger, nullable=False, server_default=text("1"))
    )
    # The schedule (contract 1.4.0): local due time and IANA time zone of due_date, the
    # recurrence rule and the reminder; due_at and remind_at are the moments they give, in UTC.
    due_time: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    time_zone: str = Field(
        default="UTC",
        sa_column=Column(String(64), nullable=False, server_default=text("'UTC'")),
    )
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    recurrence: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    # The task created when this one was completed: set once, in the completion's transaction.
    next_occurrence_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    remind_before_minutes: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    remind_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The task's event counter: the `sequence` of its last event (the outbox's triggers keep it).
    event_sequence: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    # The `remind_at` whose moment the reminder scheduler claimed (sent, or passed completed).
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The writing request's W3C traceparent, for its event: the trigger moves it into the
    # event and leaves NULL here, so a later write that does not set it passes on no trace.
    trace_context: str | None = Field(
        default=None, sa_column=Column(String(TRACE_CONTEXT_CHARS), nullable=True)
    )
    # Title and description after the search's case folding (backend/tasks/search.py): searches
    # compare these, so that case is ignored the same way on both databases.
    title_folded: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default=text("''"))
    )
    description_folded: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default=text("''"))
    )


class TaskTagRecord(SQLModel, table=True):
    """One row of `task_tag` per tag of a task, kept by triggers from `tasks.tags`."""

    __tablename__ = "task_tag"
    __table_args__ = (Index("ix_task_tag_owner_tag", "user_id", "tag", "task_id"),)

    task_id: int = Field(
        sa_column=Column(TaskId, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(32), primary_key=True))
    user_id: str = Field(sa_column=Column(String(128), nullable=False))


class IdempotencyKeyRecord(SQLModel, table=True):
    """One row of `idempotency_key`: a create request's key, and the response it got.

    Holds no header and no token: the owner, the key, a digest of the body, and the 201
    response (the task as created, and its Location) once the request has been processed.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)

    user_id: str = Field(sa_column=Column(String(128), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    # The request holding the key while it is processed, and until when it may hold it.
    claim: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    status: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


# A JSON document: jsonb on PostgreSQL, JSON text on SQLite.
DocumentType = JSON().with_variant(JSONB(), "postgresql")


class TaskEventRecord(SQLModel, table=True):
    """One row of `task_event`, the outbox: an event, written by the tasks table's triggers
    in the transaction of the change (or the reminder's claim) that caused it."""

    __tablename__ = "task_event"
    __table_args__ = (
        Index(
            "ix_task_event_undispatched",
            "id",
            postgresql_where=text("NOT dispatched"),
            sqlite_where=text("NOT dispatched"),
        ),
        Index("ix_task_event_recorded_at", "recorded_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(TaskId, primary_key=True))
    event_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(32), nullable=False))
    user_id: str = Field(sa_column=Column(String(128), nullable=False))
    task_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The task's columns right after the event, as the database holds them; none for a deletion.
    task: dict[str, object] | None = Field(
        default=None, sa_column=Column(DocumentType, nullable=True)
    )
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    dispatched: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The W3C traceparent of the write that caused the event, when that write was traced:
    # the relay's delivery continues its trace. None for deletions and reminders.
    trace_context: str | None = Field(
        default=None, sa_column=Column(String(TRACE_CONTEXT_CHARS), nullable=True)
    )


class EventDeliveryRecord(SQLModel, table=True):
    """One row of `event_delivery`: an event, to one configured endpoint, until it is
    delivered or failed."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("task_event_id", "endpoint", name="uq_event_delivery_event_endpoint"),
        Index(
            "ix_event_delivery_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index(
            "ix_event_delivery_failed",
            "endpoint",
            "task_event_id",
            postgresql_where=text("state = 'failed'"),
            sqlite_where=text("state = 'failed'"),
        ),
        CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name="ck_event_delivery_state"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(TaskId, primary_key=True))
    task_event_id: int = Field(
        sa_column=Column(TaskId, ForeignKey("task_event.id", ondelete="CASCADE"), nullable=False)
    )
    endpoint: str = Field(sa_column=Column(String(64), nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    attempts: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Past this moment an undelivered event is failed (WEBHOOK_MAX_AGE_SECONDS after it).
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # A relay sending it holds it until then; a relay killed mid-send lets it go that way.
    leased_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    leased_by: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    last_status: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


class WebhookEndpointRecord(SQLModel, table=True):
    """One row of `webhook_endpoint` per configured endpoint a receiver disabled (410)."""

    __tablename__ = "webhook_endpoint"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    disabled_reason: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
