"""The Annotated dependencies handlers ask for: the caller, the owner, the store, ids."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, get_args, get_origin

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from backend import contract
from backend.auth import Claims, TokenVerifier
from backend.errors import NotAuthenticated, NotTaskOwner
from backend.store import OwnerId, TaskStore
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


CurrentUser = Annotated[Claims, Depends(get_current_user)]

UserId = Annotated[str, Path(**contract.parameter("getTask", "user_id"))]
TaskId = Annotated[int, Path(**contract.parameter("getTask", "task_id"))]


async def get_owner(user_id: UserId, user: CurrentUser) -> OwnerId:
    """The path's user, once the token has proved to be theirs (403 otherwise)."""
    if user.subject != user_id:
        raise NotTaskOwner
    return OwnerId(user_id)


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

    # What the query string is checked against, for whoever inspects the route (the
    # conformance tests compare it with the contract's parameters).
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


def _named(issue: Any, schema_name: str) -> Any:
    """Say of a field the body may not hold whether the server sets it or it does not exist."""
    if issue["type"] != "extra_forbidden" or len(issue["loc"]) != 1:
        return issue
    name = issue["loc"][0]
    if name in contract.read_only_fields():
        message = f"`{name}` is read-only: the server sets it"
        return {**issue, "type": "read_only_field", "msg": message}
    return {**issue, "type": "unknown_field", "msg": f"no field `{name}` in {schema_name}"}


async def check_completion_state(request: Request, _owner: Owner, task_id: TaskId) -> None:
    """The completion route's body is optional: only one that is sent is checked."""
    if await request.body():
        await _check_json_types(request, CompletionState)


# The checks ask for the path's parameters so that they run only once those are valid: a
# request whose path is invalid too is answered with the path's errors, not the body's alone.
async def check_task_create(request: Request, _owner: Owner) -> None:
    await _check_json_types(request, TaskCreate)


async def check_task_update(request: Request, _owner: Owner, task_id: TaskId) -> None:
    await _check_json_types(request, TaskUpdate)


StrictTaskCreate = Annotated[None, Depends(check_task_create)]
StrictTaskUpdate = Annotated[None, Depends(check_task_update)]
StrictCompletionState = Annotated[None, Depends(check_completion_state)]
