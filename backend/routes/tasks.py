"""The six task operations of specs/api/rest-endpoints.md: HTTP in, HTTP out."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from backend import contract
from backend.http.problems import InvalidRequest
from backend.queries.idempotency import IdempotencyKeys, location_of
from backend.queries.store import INITIAL_VERSION, StoredTask
from backend.routes.dependencies import (
    CompletionStateBody,
    Owner,
    Store,
    TaskCreateBody,
    TaskId,
    TaskUpdateBody,
    query_of,
)
from backend.tasks.filters import TaskFilters
from backend.tasks.pagination import decode_cursor
from backend.tasks.preconditions import (
    Expected,
    PreconditionFailed,
    PreconditionRequired,
    etag_of,
    expected_of,
    none_match,
)
from generated.models import Task, TaskPriority, TaskSort, TaskStatusFilter

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"])

DEFAULT_STATUS = TaskStatusFilter(contract.default("listTasks", "status"))
DEFAULT_SORT = TaskSort(contract.default("listTasks", "sort"))
DEFAULT_LIMIT: int = contract.default("listTasks", "limit")


def calendar_day(value: object) -> object:
    """A query's `string(date)` is `YYYY-MM-DD` only (no timestamps, no date-times)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a calendar day, YYYY-MM-DD")
    return value


def _listed(name: str) -> Any:
    """pydantic.Field of a listTasks query parameter: the contract's constraints."""
    return Field(**contract.parameter("listTasks", name))


class ListQuery(BaseModel):
    """listTasks' query parameters, with the contract's constraints and defaults."""

    status: Annotated[TaskStatusFilter, _listed("status")] = DEFAULT_STATUS
    sort: Annotated[TaskSort, _listed("sort")] = DEFAULT_SORT
    limit: Annotated[int, _listed("limit")] = DEFAULT_LIMIT
    cursor: Annotated[str | None, _listed("cursor")] = None
    priority: Annotated[TaskPriority | None, _listed("priority")] = None
    tag: Annotated[
        list[Annotated[str, Field(**contract.items("listTasks", "tag"))]] | None,
        _listed("tag"),
    ] = None
    due_from: Annotated[date | None, BeforeValidator(calendar_day), _listed("due_from")] = None
    due_to: Annotated[date | None, BeforeValidator(calendar_day), _listed("due_to")] = None
    q: Annotated[str | None, _listed("q")] = None
    remind_from: Annotated[AwareDatetime | None, _listed("remind_from")] = None
    remind_to: Annotated[AwareDatetime | None, _listed("remind_to")] = None


ListParameters = Annotated[ListQuery, query_of(ListQuery)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", **contract.parameter("createTask", "Idempotency-Key")),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", **contract.parameter("updateTask", "If-Match"))
]
IfNoneMatch = Annotated[
    str | None, Header(alias="If-None-Match", **contract.parameter("getTask", "If-None-Match"))
]


def expected(request: Request, task_id: int, if_match: str | None) -> Expected | None:
    """The versions a write accepts; 428 without If-Match where the server requires it."""
    if if_match is None:
        if request.app.state.settings.require_if_match:
            raise PreconditionRequired
        return None
    found = expected_of(if_match)
    if not found.satisfiable:
        raise PreconditionFailed(task_id)  # only weak or foreign tags: none can match
    return found


def tagged(stored: StoredTask, response: Response) -> Task:
    response.headers["ETag"] = etag_of(stored.version)
    return stored.task


@router.get("", response_model=list[Task], operation_id="listTasks")
async def list_tasks(
    owner: Owner, store: Store, response: Response, query: ListParameters
) -> list[Task]:
    """One page of the owner's tasks; X-Next-Cursor names the next page when there is one."""
    due_from, due_to = query.due_from, query.due_to
    if due_from is not None and due_to is not None and due_from > due_to:
        raise InvalidRequest("query.due_to", f"due_to ({due_to}) is before due_from ({due_from})")
    remind_from, remind_to = query.remind_from, query.remind_to
    if query.sort is not TaskSort.REMIND_AT:
        for name, value in (("remind_from", remind_from), ("remind_to", remind_to)):
            if value is not None:
                raise InvalidRequest(
                    f"query.{name}", f"{name} selects reminders: list them with sort=remind_at"
                )
    if remind_from is not None and remind_to is not None and remind_to < remind_from:
        raise InvalidRequest(
            "query.remind_to", f"remind_to ({remind_to}) is before remind_from ({remind_from})"
        )
    filters = TaskFilters.of(
        query.status, query.priority, query.tag, due_from, due_to, query.q, remind_from, remind_to
    )
    after = None
    if query.cursor is not None:
        after = decode_cursor(query.cursor, query.sort, query.status, filters.digest())
    page = await store.list_tasks(owner, filters, query.sort, query.limit, after)
    if page.next_cursor is not None:
        response.headers["X-Next-Cursor"] = page.next_cursor.encode()
    return page.tasks


@router.post("", response_model=Task, status_code=201, operation_id="createTask")
async def create_task(
    owner: Owner,
    body: TaskCreateBody,
    store: Store,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Task | Response:
    """Store a new, not completed task; Location names it. With a key, only once."""
    if idempotency_key is not None:
        keys: IdempotencyKeys = request.app.state.idempotency_keys
        remembered = await keys.create_once(owner, idempotency_key, body)
        if remembered.replayed and request.app.state.metrics is not None:
            request.app.state.metrics.idempotent_replays.inc()
        # The first response again: the task as it was created, at its first version.
        return Response(
            remembered.body,
            status_code=remembered.status,
            headers={"Location": remembered.location, "ETag": etag_of(INITIAL_VERSION)},
            media_type="application/json",
        )
    task = await store.create(owner, body)
    response.headers["Location"] = location_of(owner, task.id)
    response.headers["ETag"] = etag_of(INITIAL_VERSION)
    return task


@router.get("/{task_id}", response_model=Task, operation_id="getTask")
async def get_task(
    owner: Owner,
    task_id: TaskId,
    store: Store,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> Task | Response:
    """One of the owner's tasks; another user's id is as unknown as a missing one. 304 when
    the client's copy (If-None-Match) is current."""
    stored = await store.get(owner, task_id)
    if if_none_match is not None and none_match(if_none_match, stored.version):
        return Response(status_code=304, headers={"ETag": etag_of(stored.version)})
    return tagged(stored, response)


@router.put("/{task_id}", response_model=Task, operation_id="updateTask")
async def update_task(
    owner: Owner,
    body: TaskUpdateBody,
    task_id: TaskId,
    store: Store,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Task:
    """Change the fields the body names; the response is the task afterwards."""
    if not body.model_fields_set:
        raise InvalidRequest("body", "name at least one field to change")
    condition = expected(request, task_id, if_match)
    return tagged(await store.update(owner, task_id, body, condition), response)


@router.delete("/{task_id}", status_code=204, operation_id="deleteTask")
async def delete_task(
    owner: Owner, task_id: TaskId, store: Store, request: Request, if_match: IfMatch = None
) -> Response:
    """Delete the task for good."""
    await store.delete(owner, task_id, expected(request, task_id, if_match))
    return Response(status_code=204)


@router.patch("/{task_id}/complete", response_model=Task, operation_id="toggleTaskCompletion")
async def toggle_task_completion(
    owner: Owner,
    state: CompletionStateBody,
    task_id: TaskId,
    store: Store,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Task:
    """Set completion to the body's state, or flip it; the response is the state produced."""
    condition = expected(request, task_id, if_match)
    if state is None:
        return tagged(await store.toggle_completion(owner, task_id, condition), response)
    return tagged(await store.set_completion(owner, task_id, state.completed, condition), response)
