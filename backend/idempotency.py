"""Idempotency-Key on create: claim a user's key, remember the response, replay it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import (
    BindParameter,
    ClauseElement,
    and_,
    bindparam,
    delete,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from backend.db import Database, DatabaseUnavailable, Statement, Transaction
from backend.models import IdempotencyKeyRecord
from backend.store import OwnerId
from generated.models import Task, TaskCreate

keys = IdempotencyKeyRecord.__table__  # type: ignore[attr-defined]

CREATED: Final = 201
# Expired keys are deleted by one claim in PURGE_EVERY of a process, at most PURGE_BATCH.
PURGE_EVERY: Final = 16
PURGE_BATCH: Final = 100
# How often a claim is tried again when the key's row vanished in between (a purge).
CLAIM_ATTEMPTS: Final = 3


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


def fingerprint_of(fields: TaskCreate) -> str:
    """A digest of the body's fields and values, whatever the JSON's spacing or order."""
    canonical = orjson.dumps(fields.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _this_key() -> Any:
    return and_(keys.c.user_id == bindparam("owner"), keys.c.key == bindparam("key"))


def _claim_statement(dialect: str) -> ClauseElement:
    """Insert the key, or take over one that expired or whose claim's lease ran out."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    now: BindParameter[datetime] = bindparam("now")
    fresh = module.insert(keys).values(
        user_id=bindparam("owner"),
        key=bindparam("key"),
        fingerprint=bindparam("fingerprint"),
        claim=bindparam("claim"),
        claimed_until=bindparam("claimed_until"),
        created_at=now,
        expires_at=bindparam("expires_at"),
    )
    excluded = fresh.excluded
    stale = or_(
        keys.c.expires_at <= now, and_(keys.c.status.is_(None), keys.c.claimed_until <= now)
    )
    claimed: ClauseElement = fresh.on_conflict_do_update(
        index_elements=[keys.c.user_id, keys.c.key],
        set_={
            "fingerprint": excluded.fingerprint,
            "claim": excluded.claim,
            "claimed_until": excluded.claimed_until,
            "status": null(),
            "response_body": null(),
            "location": null(),
            "created_at": excluded.created_at,
            "expires_at": excluded.expires_at,
        },
        where=stale,
    ).returning(keys.c.claim)
    return claimed


def _remember_statement() -> ClauseElement:
    return (
        update(keys)
        .where(_this_key(), keys.c.claim == bindparam("claim"))
        .values(
            claim=null(),
            claimed_until=null(),
            status=bindparam("status"),
            response_body=bindparam("response_body"),
            location=bindparam("location"),
        )
        .returning(keys.c.key)
    )


def _release_statement() -> ClauseElement:
    return delete(keys).where(
        _this_key(), keys.c.claim == bindparam("claim"), keys.c.status.is_(None)
    )


def _read_statement() -> ClauseElement:
    return select(keys.c.fingerprint, keys.c.status, keys.c.response_body, keys.c.location).where(
        _this_key()
    )


def _purge_statement() -> ClauseElement:
    expired = (
        select(keys.c.user_id, keys.c.key)
        .where(keys.c.expires_at <= bindparam("now"))
        .order_by(keys.c.expires_at)
        .limit(PURGE_BATCH)
    )
    return delete(keys).where(tuple_(keys.c.user_id, keys.c.key).in_(expired))


CreateTask = Callable[[OwnerId, TaskCreate, Transaction], Awaitable[Task]]


class IdempotencyKeys:
    """The users' keys of one database. Nothing is held in a session or in this process:
    the key's row is the lock, so every worker, behind any pooler, sees the same keys."""

    def __init__(self, database: Database, *, ttl_seconds: int, lease_seconds: float) -> None:
        self.database = database
        self.ttl = timedelta(seconds=ttl_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self.clock: Callable[[], datetime] = _now
        self.purge_every = PURGE_EVERY
        self._claims = 0
        dialect = database.dialect.name
        # SQLite runs one write at a time: a repeat cannot claim while the first request's
        # transaction is open, so the claim commits with the task, in the same transaction
        # (two hops to the writer's thread instead of five). PostgreSQL commits the claim on
        # its own first, so a repeat sees it and is answered 409 rather than made to wait.
        self._claim_with_create = dialect == "sqlite"
        self._claim = database.compile(_claim_statement(dialect))
        self._remember = database.compile(_remember_statement())
        self._release = database.compile(_release_statement())
        self._read = database.compile(_read_statement())
        self._purge = database.compile(_purge_statement())

    async def create_once(
        self, owner: OwnerId, key: str, fields: TaskCreate, create: CreateTask
    ) -> Remembered:
        """The response to the first request with this key and body: created now, or before.

        Raises IdempotencyKeyReused for another body, IdempotencyKeyInFlight while the first
        request is processed.
        """
        fingerprint = fingerprint_of(fields)
        for _ in range(CLAIM_ATTEMPTS):
            if self._claim_with_create:
                created = await self._claim_create_and_remember(
                    owner, key, fingerprint, fields, create
                )
                if created is not None:
                    return created
            else:
                claim = await self._try_claim(owner, key, fingerprint)
                if claim is not None:
                    return await self._create_and_remember(owner, key, claim, fields, create)
            rows = await self.database.fetch(self._read, {"owner": owner, "key": key})
            if not rows:
                continue  # purged since the claim failed: claim it again
            row = rows[0]
            if row["fingerprint"] != fingerprint:
                raise IdempotencyKeyReused(key)
            if row["status"] is None:
                raise IdempotencyKeyInFlight(key)
            return Remembered(row["status"], row["response_body"].encode(), row["location"])
        raise IdempotencyKeyInFlight(key)

    async def _try_claim(
        self, owner: str, key: str, fingerprint: str, transaction: Transaction | None = None
    ) -> str | None:
        writer: Transaction = transaction or self.database
        now = self.clock()
        self._claims += 1
        if self._claims % self.purge_every == 0:
            await writer.write(self._purge, {"now": now})
        claim = secrets.token_hex(16)
        params = {
            "owner": owner,
            "key": key,
            "fingerprint": fingerprint,
            "claim": claim,
            "claimed_until": now + self.lease,
            "now": now,
            "expires_at": now + self.ttl,
        }
        rows = await writer.write(self._claim, params)
        return claim if rows else None

    async def _claim_create_and_remember(
        self, owner: OwnerId, key: str, fingerprint: str, fields: TaskCreate, create: CreateTask
    ) -> Remembered | None:
        """Claim, create and remember in one transaction; None when the key is taken. A
        failure rolls the claim back with the task: nothing is left to release."""
        async with self.database.transaction() as transaction:
            claim = await self._try_claim(owner, key, fingerprint, transaction)
            if claim is None:
                return None
            return await self._create_in(owner, key, claim, fields, create, transaction)

    async def _create_and_remember(
        self, owner: OwnerId, key: str, claim: str, fields: TaskCreate, create: CreateTask
    ) -> Remembered:
        """Create the task and store its response in one transaction, while the claim holds:
        a task exists exactly when its key remembers it."""
        try:
            async with self.database.transaction() as transaction:
                return await self._create_in(owner, key, claim, fields, create, transaction)
        except IdempotencyKeyInFlight:
            raise
        except BaseException:
            await self._release_quietly(owner, key, claim)
            raise

    async def _create_in(
        self,
        owner: OwnerId,
        key: str,
        claim: str,
        fields: TaskCreate,
        create: CreateTask,
        transaction: Transaction,
    ) -> Remembered:
        """Create the task and store its response under the claim, in the caller's transaction."""
        task = await create(owner, fields, transaction)
        remembered = Remembered(
            CREATED, task.model_dump_json().encode(), f"/api/{owner}/tasks/{task.id}"
        )
        params = {
            "owner": owner,
            "key": key,
            "claim": claim,
            "status": remembered.status,
            "response_body": remembered.body.decode(),
            "location": remembered.location,
        }
        if not await transaction.write(self._remember, params):
            # The lease ran out and a repeat took the key over: this one is undone.
            raise IdempotencyKeyInFlight(key)
        return remembered

    async def _release_quietly(self, owner: str, key: str, claim: str) -> None:
        """Free the key of a request that failed, so a repeat is processed anew; if the
        database cannot be reached, the claim's lease frees it later."""
        params = {"owner": owner, "key": key, "claim": claim}
        statement: Statement = self._release
        try:
            await self.database.write(statement, params)
        except DatabaseUnavailable:
            return  # the request's own error is the one to report
