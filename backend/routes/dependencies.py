"""The Annotated dependencies handlers ask for: the caller, the owner, the store, ids."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, get_args, get_origin

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError

from backend import contract
from backend.auth.tokens import Claims, TokenVerifier
from backend.http.problems import NotAuthenticated, NotTaskOwner
from backend.queries.store import OwnerId, TaskStore
from generated.models import CompletionState, TaskCreate, TaskUpdate

MAX_AUTHORIZATION_BYTES = 8 * 1024
M = TypeVar("M", bound=BaseModel)


async def get_current_user(request: Request) -> Claims:
    """Verify `Authorization: Bearer <JWT>`; only the header counts (not cookies or query)."""
    header = request.headers.get("authorization")
    if header is None:
        raise NotAuthenticated("an Authorization: Bearer token is required")
    if len(header) > MAX_AUTHORIZATION_BYTES:
        raise NotAuthenticated("the Authorization header is too large")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(token.strip())


class OwnerPath(BaseModel):
    """The path's `user_id`, with the contract's constraints."""

    user_id: Annotated[str, Field(**contract.parameter("getTask", "user_id"))]


TaskId = Annotated[int, Path(**contract.parameter("getTask", "task_id"))]


async def get_owner(request: Request) -> OwnerId:
    """The path's user, once the token has proved to be theirs.

    One dependency, in this order: the token (401, whatever the path holds), the path's
    `user_id` against the contract (422), then the token's `sub` against it (403). FastAPI
    would check a declared path parameter before any dependency it feeds, and each
    dependency level costs about 25 us of CPU per request (bench.limits), so the path is
    checked here, against OwnerPath.
    """
    user = await get_current_user(request)
    user_id = request.path_params["user_id"]
    try:
        OwnerPath.model_validate({"user_id": user_id})
    except ValidationError as error:
        issues = error.errors(include_url=False)
        path_issues = [{**issue, "loc": ("path", *issue["loc"])} for issue in issues]
        # The body is checked too, so that one answer names everything that is wrong.
        raise RequestValidationError([*path_issues, *await _body_issues(request)]) from None
    if user.subject != user_id:
        raise NotTaskOwner
    return OwnerId(user_id)


# The models the request's parts are checked against outside FastAPI's own parameters, for
# whoever inspects the route (the conformance tests compare them with the contract).
get_owner.path_model = OwnerPath  # type: ignore[attr-defined]


async def get_store(request: Request) -> TaskStore:
    store: TaskStore = request.app.state.store
    return store


Owner = Annotated[OwnerId, Depends(get_owner)]
Store = Annotated[TaskStore, Depends(get_store)]


def query_of(model: type[M]) -> Any:
    """Depends(): the query string validated against `model` in one pass, once the owner is
    known (401 and 403 come first, as for any parameter).

    FastAPI resolves each query parameter on its own, in Python; one pydantic-core validation
    of them all costs a fraction (docs/PERFORMANCE.md). Values are read as FastAPI reads them:
    the last of a repeated scalar, every value of a list, unknown names ignored.
    """
    listed = frozenset(
        name
        for name, field in model.model_fields.items()
        if any(get_origin(part) is list for part in (field.annotation, *get_args(field.annotation)))
    )

    async def validate_query(request: Request, _owner: Owner) -> M:
        received = request.query_params
        values: dict[str, Any] = dict(received.items())
        for name in listed & received.keys():
            values[name] = received.getlist(name)
        try:
            return model.model_validate(values)
        except ValidationError as error:
            issues = error.errors(include_url=False)
            raise RequestValidationError(
                [{**issue, "loc": ("query", *issue["loc"])} for issue in issues]
            ) from None

    validate_query.query_model = model  # type: ignore[attr-defined]
    return Depends(validate_query)


async def _check_json_types(request: Request, model: type[M]) -> M:
    """Hold the body to JSON Schema types: `0` is not a date and `1` is not `true`.

    FastAPI validates the decoded body in Pydantic's lax mode, which coerces such values;
    validating the raw JSON in strict mode accepts exactly what the contract's types say.
    """
    try:
        body = model.model_validate_json(await request.body(), strict=True)
    except ValidationError as error:
        issues = error.errors(include_url=False)
        raise RequestValidationError(
            [{**_named(issue, model.__name__), "loc": ("body", *issue["loc"])} for issue in issues]
        ) from None
    # JSON Schema's uniqueItems, which Pydantic models do not express.
    values = body.model_dump()
    for name in contract.unique_item_fields(model.__name__):
        items = values.get(name) or []
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            message = f"{', '.join(map(repr, repeated))} named more than once: items are a set"
            raise RequestValidationError(
                [{"loc": ("body", name), "msg": message, "type": "unique_items"}]
            )
    return body


async def _body_issues(request: Request) -> list[Any]:
    """What is wrong with the body of the route's model (body_model), if it has one."""
    route = request.scope.get("route")
    pending = [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        model = getattr(dependant.call, "body_model", None)
        pending += dependant.dependencies
        if model is None:
            continue
        body_types = [part for part in (model, *get_args(model)) if isinstance(part, type)]
        checked = next((part for part in body_types if issubclass(part, BaseModel)), None)
        optional = type(None) in get_args(model)
        if checked is None or (optional and not await request.body()):
            return []  # an optional body that was not sent
        try:
            await _check_json_types(request, checked)
        except RequestValidationError as error:
            return list(error.errors())
        return []
    return []


def _named(issue: Any, schema_name: str) -> Any:
    """Say of a field the body may not hold whether the server sets it or it does not exist."""
    if issue["type"] != "extra_forbidden" or len(issue["loc"]) != 1:
        return issue
    name = issue["loc"][0]
    if name in contract.read_only_fields():
        message = f"`{name}` is read-only: the server sets it"
        return {**issue, "type": "read_only_field", "msg": message}
    return {**issue, "type": "unknown_field", "msg": f"no field `{name}` in {schema_name}"}


async def check_completion_state(
    request: Request, _owner: Owner, task_id: TaskId
) -> CompletionState | None:
    """The completion route's body is optional: only one that is sent is checked."""
    if await request.body():
        return await _check_json_types(request, CompletionState)
    return None


# The checks ask for the path's parameters so that they run only once those are valid: a
# request whose path is invalid too is answered with the path's errors, not the body's alone.
# The body they return is the handler's: FastAPI does not parse it a second time.
async def check_task_create(request: Request, _owner: Owner) -> TaskCreate:
    return await _check_json_types(request, TaskCreate)


async def check_task_update(request: Request, _owner: Owner, task_id: TaskId) -> TaskUpdate:
    return await _check_json_types(request, TaskUpdate)


check_task_create.body_model = TaskCreate  # type: ignore[attr-defined]
check_task_update.body_model = TaskUpdate  # type: ignore[attr-defined]
check_completion_state.body_model = CompletionState | None  # type: ignore[attr-defined]

TaskCreateBody = Annotated[TaskCreate, Depends(check_task_create)]
TaskUpdateBody = Annotated[TaskUpdate, Depends(check_task_update)]
CompletionStateBody = Annotated[CompletionState | None, Depends(check_completion_state)]
