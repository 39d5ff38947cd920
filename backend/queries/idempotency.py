"""Idempotency-Key on create: a task and its key's row commit together; a repeat replays.

A keyed create inserts the task and the key's row, holding the task as created, in one
atomic write: on PostgreSQL one statement, on SQLite one transaction. A key that is
already there makes the write fail whole (the primary key of `idempotency_key`), so a
task exists exactly when its key remembers it, and no failure leaves anything to undo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

import orjson
from sqlalchemy import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)

from backend.queries.store import OwnerId, TaskStore, insert_task, new_task_parameters
from backend.storage.database import Database, DatabaseConflict, Transaction
from backend.storage.models import IdempotencyKeyRecord
from backend.tasks.schedule import DEFAULT_TIME_ZONE, Schedule
from generated.models import Task, TaskCreate

keys = IdempotencyKeyRecord.__table__  # type: ignore[attr-defined]

CREATED: Final = 201
# One keyed create in PURGE_EVERY of a process deletes its owner's expired keys, PURGE_BATCH
# at most.
PURGE_EVERY: Final = 16
PURGE_BATCH: Final = 100
# How often a create is tried again when the key's row was stale, or vanished, in between.
ATTEMPTS: Final = 3


class IdempotencyKeyReused(Exception):
    """The key was first sent with another body: it names another request."""


class IdempotencyKeyInFlight(Exception):
    """The first request with this key is still being processed."""


@dataclass(frozen=True, slots=True)
class Remembered:
    """The response a key's first request got: what every repeat gets too."""

    status: int
    body: bytes
    location: str
    replayed: bool = False  # a repeat's answer, not the first request's


# Fields later contracts added to TaskCreate with a default: at that default they are left
# out of the digest, so a key an earlier release stored still recognises its body (1.4.0).
LATER_CREATE_DEFAULTS: Final = {"time_zone": DEFAULT_TIME_ZONE}
# What a task an earlier release remembered holds in the fields later contracts added to
# Task: it was created with them at these values (1.4.0: due on its day in UTC, no rule).
LATER_TASK_DEFAULTS: Final = {**Schedule().columns(), "next_occurrence_id": None}


def fingerprint_of(fields: TaskCreate) -> str:
    """A digest of the body's fields and values, whatever the JSON's spacing or order."""
    values = fields.model_dump(mode="json")
    for name, default in LATER_CREATE_DEFAULTS.items():
        if values.get(name) == default:
            del values[name]
    canonical = orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def lock_of(owner: str, key: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit number) a create with this key holds."""
    digest = hashlib.sha256(f"{owner}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def location_of(owner: str, task_id: int | str) -> str:
    return f"/api/{owner}/tasks/{task_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _replayed(status: int, stored_task: str, location: str) -> Remembered:
    """The remembered response, serialized as the first one was. PostgreSQL writes the
    stored task's times in its session's time zone: they are brought back to UTC."""
    task = Task.model_validate({**LATER_TASK_DEFAULTS, **orjson.loads(stored_task)})
    in_utc = {name: value.astimezone(UTC) for name, value in task if isinstance(value, datetime)}
    body = task.model_copy(update=in_utc).model_dump_json().encode()
    return Remembered(status, body, location, replayed=True)


def _this_key() -> Any:
    return and_(keys.c.user_id == bindparam("owner"), keys.c.key == bindparam("key"))


def _stale() -> Any:
    """Expired, or claimed by an earlier server build with a lease that ran out."""
    now: BindParameter[datetime] = bindparam("now")
    return or_(keys.c.expires_at <= now, and_(keys.c.status.is_(None), keys.c.claimed_until <= now))


def _key_row(
    status: ColumnElement[Any], response_body: ColumnElement[Any], location: ColumnElement[Any]
) -> dict[str, ColumnElement[Any]]:
    """The key's row, by column: the request's key and digest, and the response given."""
    return {
        "user_id": bindparam("owner"),
        "key": bindparam("key"),
        "fingerprint": bindparam("fingerprint"),
        "status": status,
        "response_body": response_body,
        "location": location,
        "created_at": bindparam("key_created_at"),
        "expires_at": bindparam("expires_at"),
    }


def _remember_statement() -> ClauseElement:
    """SQLite: the key's row, with the response the task's INSERT produced."""
    response = _key_row(bindparam("status"), bindparam("response_body"), bindparam("location"))
    return insert(keys).values(**response)


def _create_and_remember_statement() -> ClauseElement:
    """PostgreSQL: the task and its key's row in one statement, under the key's lock.

    The task is inserted only if this statement takes the key's transaction-scoped
    advisory lock at once: a concurrent repeat does not take it, inserts nothing and is
    answered 409. The key's row then holds the task as created (the RETURNING row, which
    is the Task's JSON), and fails the statement whole if the key is already there.
    """
    created = insert_task(gate=func.pg_try_advisory_xact_lock(bindparam("lock"))).cte("created")
    row = _key_row(
        literal(CREATED),
        cast(func.to_jsonb(created.table_valued()), Text),
        bindparam("location_prefix") + cast(created.c.id, Text),
    )
    response = select(*row.values()).select_from(created)
    remembered = insert(keys).from_select(list(row), response).cte("remembered")
    return select(*created.c).add_cte(remembered)


def _read_statement() -> ClauseElement:
    return select(
        keys.c.fingerprint,
        keys.c.status,
        keys.c.response_body,
        keys.c.location,
        _stale().label("stale"),
    ).where(_this_key())


def _forget_stale_statement() -> ClauseElement:
    return delete(keys).where(_this_key(), _stale())


def _purge_statement() -> ClauseElement:
    """The owner's expired keys, PURGE_BATCH at most: like every statement here, it stays
    within one owner's rows (docs/SCALING.md; dormant owners' keys: docs/OPERATIONS.md)."""
    expired = (
        select(keys.c.key)
        .where(keys.c.user_id == bindparam("owner"), keys.c.expires_at <= bindparam("now"))
        .order_by(keys.c.expires_at)
        .limit(PURGE_BATCH)
    )
    return delete(keys).where(keys.c.user_id == bindparam("owner"), keys.c.key.in_(expired))


class Outcome(Enum):
    """Why a keyed create stored nothing."""

    KEY_TAKEN = "the key's row is there"
    LOCKED = "a request with this key holds its lock"


class IdempotencyKeys:
    """The users' keys of one database. Nothing is held in a session or in this process,
    so every worker, behind any pooler, sees the same keys."""

    def __init__(self, store: TaskStore, *, ttl_seconds: int) -> None:
        self.store = store
        self.database: Database = store.database
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock: Callable[[], datetime] = _now
        self.purge_every = PURGE_EVERY
        self._creates = 0
        self._postgres = self.database.dialect.name == "postgresql"
        compile_ = self.database.compile
        self._create_and_remember = compile_(
            _create_and_remember_statement() if self._postgres else _remember_statement()
        )
        self._read = compile_(_read_statement())
        self._forget_stale = compile_(_forget_stale_statement())
        self._purge = compile_(_purge_statement())

    async def create_once(self, owner: OwnerId, key: str, fields: TaskCreate) -> Remembered:
        """The response to the first request with this key and body: created now, or before.

        Raises IdempotencyKeyReused for another body, IdempotencyKeyInFlight while the first
        request is processed.
        """
        fingerprint = fingerprint_of(fields)
        for _ in range(ATTEMPTS):
            created = await self._create_first(owner, key, fingerprint, fields)
            if isinstance(created, Remembered):
                return created
            params = {"owner": owner, "key": key, "now": self.clock()}
            rows = await self.database.fetch(self._read, params)
            if not rows:
                if created is Outcome.LOCKED:
                    raise IdempotencyKeyInFlight(key)  # its write has not committed yet
                continue  # forgotten since this write failed: try again
            row = rows[0]
            if row["stale"]:
                await self.database.write(self._forget_stale, params)
                continue
            if row["fingerprint"] != fingerprint:
                raise IdempotencyKeyReused(key)
            if row["status"] is None:
                raise IdempotencyKeyInFlight(key)
            return _replayed(row["status"], row["response_body"], row["location"])
        raise IdempotencyKeyInFlight(key)

    async def _create_first(
        self, owner: OwnerId, key: str, fingerprint: str, fields: TaskCreate
    ) -> Remembered | Outcome:
        """PostgreSQL: one statement in autocommit; SQLite: a transaction of its own."""
        try:
            if self._postgres:
                return await self.create_in(self.database, owner, key, fingerprint, fields)
            async with self.database.transaction() as transaction:
                return await self.create_in(transaction, owner, key, fingerprint, fields)
        except DatabaseConflict:
            return Outcome.KEY_TAKEN

    async def create_in(
        self,
        writer: Transaction,
        owner: OwnerId,
        key: str,
        fingerprint: str,
        fields: TaskCreate,
    ) -> Remembered | Outcome:
        """Create the task and remember its response, with the writer: both or neither.

        Raises DatabaseConflict when the key's row is there: a transaction the writer is
        part of must then roll back (on SQLite the task was inserted before the conflict).
        """
        now = self.clock()
        self._creates += 1
        if self._creates % self.purge_every == 0:
            await writer.write(self._purge, {"owner": owner, "now": now})
        params = {
            "owner": owner,
            "key": key,
            "fingerprint": fingerprint,
            "key_created_at": now,
            "expires_at": now + self.ttl,
        }
        if not self._postgres:
            return await self._create_then_remember(writer, owner, fields, params)
        rows = await writer.write(
            self._create_and_remember,
            {
                **new_task_parameters(owner, fields),
                **params,
                "lock": lock_of(owner, key),
                "location_prefix": location_of(owner, ""),
            },
        )
        if not rows:
            return Outcome.LOCKED
        task = Task.model_validate(rows[0])
        return Remembered(CREATED, task.model_dump_json().encode(), location_of(owner, task.id))

    async def _create_then_remember(
        self, writer: Transaction, owner: OwnerId, fields: TaskCreate, params: dict[str, Any]
    ) -> Remembered:
        """SQLite: the task, then its key's row (writes run one at a time there: a repeat
        waits for this transaction to end, then replays its response)."""
        task = await self.store.create(owner, fields, writer)
        remembered = Remembered(
            CREATED, task.model_dump_json().encode(), location_of(owner, task.id)
        )
        await writer.write(
            self._create_and_remember,
            {
                **params,
                "status": remembered.status,
                "response_body": remembered.body.decode(),
                "location": remembered.location,
            },
        )
        return remembered
