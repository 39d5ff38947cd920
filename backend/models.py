"""SQLModel tables: the storage contract of specs/database/schema.md."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    false,
)
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


class TaskRecord(SQLModel, table=True):
    """One row of `tasks`. The API shape is generated.models.Task; this is the storage."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_created", "user_id", "created_at", "id"),
        Index("ix_tasks_owner_title", "user_id", "title", "id"),
        Index("ix_tasks_owner_due_date", "user_id", "due_date", "id"),
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
