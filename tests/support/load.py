"""A bounded, mixed load of several users against a live server, and what it acknowledged.

Each user runs one sequence of requests (create, list, read, update, toggle, delete) chosen
by a seeded random generator; users run side by side. The ledger keeps, per user, the last
acknowledged state of every task, so a test can check that nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import new_owner, token_for

CLIENT_TIMEOUT = httpx.Timeout(30.0)
KEEPALIVE_EXPIRY_SECONDS = 1.0  # below uvicorn's keep-alive timeout (5 s), see run_mixed_load
PAGE_LIMIT = 100
MAX_PAGES = 50
# Operation -> weight: writes dominate, as they are what may be lost.
OPERATIONS = {"create": 4, "list": 2, "read": 1, "update": 1, "toggle": 1, "delete": 1}
EXPECTED_STATUS = {"create": 201, "list": 200, "read": 200, "update": 200, "toggle": 200}
EXPECTED_STATUS["delete"] = 204


@dataclass
class Ledger:
    """What the server answered: acknowledged task states, and anything unexpected."""

    tasks: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    """owner -> task id -> the task as the last acknowledged write returned it."""
    uncertain: dict[str, set[int]] = field(default_factory=dict)
    """owner -> tasks whose last write got no answer (the connection was closed)."""
    statuses: dict[int, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    transport_errors: list[tuple[float, str]] = field(default_factory=list)
    """(when, what) of each request that got no answer at all."""
    answered_after_stop: int = 0
    """Requests sent before `stop_sent_at` and answered after it (in flight at the signal)."""
    stop_sent_at: float | None = None

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _task_fields(task: dict[str, Any]) -> dict[str, Any]:
    return {name: task[name] for name in ("title", "description", "due_date", "completed")}


async def _one_user(
    client: httpx.AsyncClient,
    owner: str,
    requests: int,
    seed: int,
    ledger: Ledger,
    after_each: Callable[[Ledger], None],
) -> None:
    chooser = random.Random(seed)
    headers = token_for(owner)
    tasks = ledger.tasks.setdefault(owner, {})
    uncertain = ledger.uncertain.setdefault(owner, set())
    base = f"/api/{owner}/tasks"
    names, weights = list(OPERATIONS), list(OPERATIONS.values())
    for step in range(requests):
        operation = chooser.choices(names, weights)[0] if tasks else "create"
        task_id = chooser.choice(sorted(tasks)) if tasks else 0
        if operation == "create":
            request = client.build_request(
                "POST", base, headers=headers, json={"title": f"{owner[-6:]} {step}"}
            )
        elif operation == "list":
            request = client.build_request(
                "GET", base, headers=headers, params={"limit": "20", "status": "all"}
            )
        elif operation == "read":
            request = client.build_request("GET", f"{base}/{task_id}", headers=headers)
        elif operation == "update":
            body = {"description": f"step {step}", "due_date": f"2027-01-{1 + step % 28:02d}"}
            request = client.build_request("PUT", f"{base}/{task_id}", headers=headers, json=body)
        elif operation == "toggle":
            request = client.build_request("PATCH", f"{base}/{task_id}/complete", headers=headers)
        else:
            request = client.build_request("DELETE", f"{base}/{task_id}", headers=headers)
        sent_at = time.monotonic()
        try:
            response = await client.send(request)
        except httpx.TransportError as error:
            ledger.transport_errors.append((time.monotonic(), f"{operation}: {error!r}"))
            if operation in ("update", "toggle", "delete"):
                uncertain.add(task_id)
            return  # this user stops: the server is going away, or broke
        stop = ledger.stop_sent_at
        if stop is not None and sent_at < stop:
            ledger.answered_after_stop += 1
        ledger.count(response.status_code)
        if response.status_code != EXPECTED_STATUS[operation]:
            ledger.unexpected.append(f"{operation} {response.status_code}: {response.text[:200]}")
            continue
        if operation in ("create", "update", "toggle"):
            task = response.json()
            tasks[task["id"]] = task
            uncertain.discard(task["id"])
        elif operation == "delete":
            del tasks[task_id]
            uncertain.discard(task_id)
        after_each(ledger)


async def run_mixed_load(
    base_url: str,
    *,
    users: int,
    requests_per_user: int,
    seed: int = 0,
    after_each: Callable[[Ledger], None] = lambda _ledger: None,
) -> Ledger:
    """`users` users side by side, `requests_per_user` requests each; returns the ledger."""
    ledger = Ledger()
    # An idle connection is dropped by the client before uvicorn's keep-alive timeout (5 s)
    # closes it: otherwise a user stalled that long on a busy machine can send its next
    # request on a connection the server is closing ("Server disconnected without sending a
    # response"), the race a proxy avoids by the same rule.
    limits = httpx.Limits(
        max_connections=users,
        max_keepalive_connections=users,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=CLIENT_TIMEOUT
    ) as client:
        await asyncio.gather(
            *(
                _one_user(client, new_owner(), requests_per_user, seed + index, ledger, after_each)
                for index in range(users)
            )
        )
    return ledger


async def listed_tasks(client: httpx.AsyncClient, owner: str) -> dict[int, dict[str, Any]]:
    """Every task of `owner`, following X-Next-Cursor to the last page."""
    found: dict[int, dict[str, Any]] = {}
    params = {"limit": str(PAGE_LIMIT), "status": "all"}
    for _ in range(MAX_PAGES):
        response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner), params=params)
        assert response.status_code == 200, response.text
        found.update({task["id"]: task for task in response.json()})
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return found
        params = {**params, "cursor": cursor}
    raise AssertionError(f"more than {MAX_PAGES} pages for {owner}")


def acknowledged_fields(ledger: Ledger, owner: str) -> dict[int, dict[str, Any]]:
    """The acknowledged state of the owner's tasks whose last write was answered."""
    skip = ledger.uncertain.get(owner, set())
    return {
        task_id: _task_fields(task)
        for task_id, task in ledger.tasks.get(owner, {}).items()
        if task_id not in skip
    }


def fields_of(tasks: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {task_id: _task_fields(task) for task_id, task in tasks.items()}
